// The account: profile (name, contacts and whether they are confirmed), addresses, saved
// payment methods, and signing out here or everywhere.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, session, unwrap } from "../../api";
import { useAuth, useMe } from "../../auth";
import { t } from "../../strings";
import { Alert, Card, Chip, Empty, Field, Pending, Screen, errorOf } from "../../ui";

export default function Account() {
  const me = useMe();
  const navigate = useNavigate();
  const everywhere = useMutation({
    mutationFn: async () => {
      await unwrap(api.POST("/api/v1/auth/logout-all"));
      await session.signOut();
    },
    onSuccess: () => navigate("/", { replace: true }),
  });
  return (
    <Screen title={t("account.title")}>
      {!me.data ? <Pending query={me} /> : <Profile key={me.data.id} me={me.data} />}
      <nav className="links" aria-label={t("account.title")}>
        <Link to="/my-plans">{t("plans.title")}</Link>
        <Link to="/orders">{t("account.orders")}</Link>
        <Link to="/settings/notifications">{t("account.notifications")}</Link>
        <Link to="/support">{t("account.support")}</Link>
      </nav>
      <Addresses />
      <Methods />
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void session.signOut().then(() => navigate("/"))}>
          {t("auth.signOut")}
        </button>
        <button type="button" className="danger" onClick={() => everywhere.mutate()} disabled={everywhere.isPending}>
          {t("auth.signOutEverywhere")}
        </button>
      </div>
    </Screen>
  );
}

function Profile({ me }: { me: NonNullable<ReturnType<typeof useMe>["data"]> }) {
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: (name: string) => unwrap(api.PATCH("/api/v1/me", { body: { name } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["me"] }),
  });
  const unconfirmed = (me.email && !me.email_verified) || (me.phone && !me.phone_verified);
  return (
    <section aria-labelledby="profile">
      <h2 id="profile">{t("account.profile")}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(String(new FormData(e.currentTarget).get("name")));
        }}
      >
        <Field label={t("auth.name")} name="name" defaultValue={me.name ?? ""} autoComplete="name" error={errorOf(save.error, "name")} />
        <Alert problem={save.error} />
        <button type="submit" className="secondary" disabled={save.isPending}>
          {save.isSuccess ? t("account.saved") : t("account.save")}
        </button>
      </form>
      <p>
        {me.email ? (
          <>
            {me.email} {me.email_verified ? null : <Chip tone="warn">{t("account.unverified")}</Chip>}
            <br />
          </>
        ) : null}
        {me.phone ? (
          <>
            {me.phone} {me.phone_verified ? null : <Chip tone="warn">{t("account.unverified")}</Chip>}
          </>
        ) : null}
      </p>
      {unconfirmed ? <Link to="/verify">{t("account.confirm")}</Link> : null}
    </section>
  );
}

function Addresses() {
  const { user } = useAuth();
  const queries = useQueryClient();
  const addresses = useQuery({ queryKey: ["addresses", user?.id], queryFn: () => unwrap(api.GET("/api/v1/me/addresses")) });
  const [adding, setAdding] = useState(false);
  const add = useMutation({
    mutationFn: (form: FormData) =>
      unwrap(
        api.POST("/api/v1/me/addresses", {
          body: {
            label: String(form.get("label")) || null,
            line1: String(form.get("line1")),
            line2: String(form.get("line2")) || null,
            city: String(form.get("city")),
            postal_code: String(form.get("postal_code")),
            country: "IN",
            is_default: (addresses.data?.length ?? 0) === 0,
          },
        }),
      ),
    onSuccess: () => {
      setAdding(false);
      void queries.invalidateQueries({ queryKey: ["addresses"] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/me/addresses/{address_id}", { params: { path: { address_id: id } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["addresses"] }),
  });
  return (
    <section aria-labelledby="addresses">
      <h2 id="addresses">{t("account.addresses")}</h2>
      {!addresses.data ? (
        <Pending query={addresses} />
      ) : addresses.data.length === 0 && !adding ? (
        <Empty>{t("account.noAddresses")}</Empty>
      ) : (
        <ul className="list">
          {addresses.data.map((a) => (
            <li key={a.id}>
              <Card>
                <p>
                  {a.label ? <strong>{a.label}: </strong> : null}
                  {[a.line1, a.line2, a.city, a.postal_code].filter(Boolean).join(", ")}{" "}
                  {a.is_default ? <Chip>{t("account.isDefault")}</Chip> : null}
                </p>
                <button type="button" className="link" onClick={() => remove.mutate(a.id)}>
                  {t("account.remove")}
                </button>
              </Card>
            </li>
          ))}
        </ul>
      )}
      <Alert problem={remove.error} />
      {adding ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate(new FormData(e.currentTarget));
          }}
        >
          <Field label={t("account.label")} name="label" error={errorOf(add.error, "label")} />
          <Field label={t("account.line1")} name="line1" autoComplete="address-line1" required error={errorOf(add.error, "line1")} />
          <Field label={t("account.line2")} name="line2" autoComplete="address-line2" error={errorOf(add.error, "line2")} />
          <Field label={t("account.city")} name="city" autoComplete="address-level2" required error={errorOf(add.error, "city")} />
          <Field
            label={t("account.postalCode")}
            name="postal_code"
            autoComplete="postal-code"
            inputMode="numeric"
            required
            error={errorOf(add.error, "postal_code")}
          />
          <Alert problem={add.error} fields />
          <button type="submit" className="primary" disabled={add.isPending}>
            {t("account.save")}
          </button>
        </form>
      ) : (
        <button type="button" className="secondary" onClick={() => setAdding(true)}>
          {t("account.addAddress")}
        </button>
      )}
    </section>
  );
}

function Methods() {
  const { user } = useAuth();
  const queries = useQueryClient();
  const methods = useQuery({
    queryKey: ["payment-methods", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me/payment-methods")),
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE("/api/v1/me/payment-methods/{method_id}", { params: { path: { method_id: id } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["payment-methods"] }),
  });
  return (
    <section aria-labelledby="methods">
      <h2 id="methods">{t("account.methods")}</h2>
      {!methods.data ? (
        <Pending query={methods} />
      ) : methods.data.length === 0 ? (
        <Empty>{t("account.noMethods")}</Empty>
      ) : (
        <ul className="list plain">
          {methods.data.map((m) => (
            <li key={m.id}>
              {[m.brand ?? m.kind, m.last4 ? `•••• ${m.last4}` : null, m.exp_month ? `${m.exp_month}/${m.exp_year}` : null]
                .filter(Boolean)
                .join(" ")}{" "}
              {m.is_default ? <Chip>{t("account.isDefault")}</Chip> : null}{" "}
              <button type="button" className="link" onClick={() => remove.mutate(m.id)}>
                {t("account.remove")}
              </button>
            </li>
          ))}
        </ul>
      )}
      <Alert problem={remove.error} />
    </section>
  );
}
