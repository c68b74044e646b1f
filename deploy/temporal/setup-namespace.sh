#!/bin/sh
# One-shot job (temporalio/admin-tools image, or anywhere the `temporal` CLI is): wait for the
# cluster, create the namespace if it is missing, and register every custom search attribute the
# workflows set. Idempotent: a run on a set-up cluster changes nothing and exits 0.
#
#   TEMPORAL_ADDRESS              host:port of the frontend
#   TEMPORAL_NAMESPACE            the namespace the API and worker use
#   TEMPORAL_NAMESPACE_RETENTION  how long closed workflow histories are kept (Go duration)
#   SEARCH_ATTRIBUTES             "Name=Type Name=Type ..." (domain/contracts.py SEARCH_ATTRIBUTES;
#                                 tests/platform/test_compose.py keeps the two lists equal)
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-720h}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
DELAY="${SETUP_RETRY_DELAY:-2}"
ADDR="--address $TEMPORAL_ADDRESS"

# Runs "$@" quietly until it succeeds, ATTEMPTS times at most (the cluster may still be starting,
# and a new namespace takes a few seconds to reach every frontend); the last failure is shown.
retry() {
    n=1
    until "$@" >/dev/null 2>&1; do
        if [ "$n" -ge "$ATTEMPTS" ]; then
            echo "gave up after $n attempts: $*" >&2
            "$@"
            return 1
        fi
        n=$((n + 1))
        sleep "$DELAY"
    done
}

echo "waiting for Temporal at $TEMPORAL_ADDRESS"
# shellcheck disable=SC2086
retry temporal operator cluster health $ADDR

# shellcheck disable=SC2086
if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" $ADDR >/dev/null 2>&1; then
    echo "namespace $TEMPORAL_NAMESPACE exists"
else
    echo "creating namespace $TEMPORAL_NAMESPACE (retention $RETENTION)"
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
        --retention "$RETENTION" $ADDR ||
        # another run may have created it meanwhile; only its absence is an error
        temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" $ADDR >/dev/null
fi
# Usable once its search attributes can be listed (the frontend's namespace cache has it).
# shellcheck disable=SC2086
retry temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" $ADDR

# The type a custom search attribute already has in the namespace, or nothing.
registered_type() {
    # shellcheck disable=SC2086
    temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" $ADDR |
        awk -v name="$1" '$1 == name { print $2 }'
}

for pair in $SEARCH_ATTRIBUTES; do
    name="${pair%%=*}"
    type="${pair#*=}"
    if [ -z "$name" ] || [ "$name" = "$pair" ]; then
        echo "malformed entry '$pair' in SEARCH_ATTRIBUTES (want Name=Type)" >&2
        exit 1
    fi
    current="$(registered_type "$name")"
    if [ "$current" = "$type" ]; then
        echo "search attribute $name ($type) is registered"
        continue
    fi
    if [ -n "$current" ]; then
        echo "search attribute $name is registered as $current, not $type: a type cannot change" >&2
        exit 1
    fi
    echo "registering search attribute $name ($type)"
    # shellcheck disable=SC2086
    retry temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
        --name "$name" --type "$type" $ADDR
done
echo "namespace $TEMPORAL_NAMESPACE is ready"
