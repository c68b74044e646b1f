// A query's states in one place: loading (a spinner naming what), failed (the problem, with "Try
// again"), or its data handed to `children`. Every screen shows a query through `Loaded`, or,
// where a screen returns early, through `unready`.
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ErrorState, Loading } from "./States";

type Words = {
  /** What the error says could not load, when not `what`. */
  failed?: string;
  /** Offer "Try again" when it failed (a part of a screen that reloads with the screen says no). */
  retry?: boolean;
};

/** The loading or the failed state of `query`; null once it has its data. */
export function unready(query: UseQueryResult<unknown>, what: string, { failed = what, retry = true }: Words = {}): ReactNode {
  if (query.isPending) return <Loading what={what} />;
  if (query.isError) return <ErrorState what={failed} error={query.error} retry={retry ? () => query.refetch() : undefined} />;
  return null;
}

export function Loaded<T>({
  query,
  what,
  failed,
  retry,
  children,
}: Words & {
  query: UseQueryResult<T>;
  /** What is loading, in words: "payments", "the request". */
  what: string;
  children: (data: T) => ReactNode;
}) {
  return query.isSuccess ? <>{children(query.data)}</> : unready(query, what, { failed, retry });
}
