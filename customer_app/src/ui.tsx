// The app's few building blocks: the frame of every screen (title, back, the bottom tabs), the
// states every screen has (loading, empty, error, offline), form fields that show the API's
// error beside their input.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from "react";
import { Link, NavLink, useNavigate } from "react-router";
import { api, isProblem, unwrap } from "./api";
import { isTechnician, useAuth } from "./auth";
import { t } from "./strings";

export function useOnline(): boolean {
  const [online, setOnline] = useState(typeof navigator === "undefined" ? true : navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  return online;
}

export function Screen({ title, back, children, actions }: { title: string; back?: boolean; children: ReactNode; actions?: ReactNode }) {
  const navigate = useNavigate();
  const online = useOnline();
  useEffect(() => {
    document.title = `${title} · ${t("app")}`;
  }, [title]);
  return (
    <>
      <header className="bar">
        {back ? (
          <button type="button" className="icon" aria-label={t("states.back")} onClick={() => navigate(-1)}>
            ‹
          </button>
        ) : null}
        <h1>{title}</h1>
        {actions}
      </header>
      {online ? null : (
        <p className="offline" role="status">
          {t("states.offline")}
        </p>
      )}
      <main id="main">{children}</main>
      <Tabs />
    </>
  );
}

function Tabs() {
  const { user } = useAuth();
  const unread = useQuery({
    queryKey: ["unread", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me/notifications/unread-count")),
    enabled: !!user,
    refetchInterval: 60_000,
  });
  const count = unread.data?.unread ?? 0;
  return (
    <nav className="tabs" aria-label={t("nav.main")}>
      <NavLink to="/" end>
        {t("nav.plans")}
      </NavLink>
      {isTechnician(user) ? <NavLink to="/jobs">{t("nav.jobs")}</NavLink> : <NavLink to="/visits">{t("nav.visits")}</NavLink>}
      <NavLink to="/inbox">
        {t("nav.inbox")}
        {count > 0 ? (
          <span className="badge" aria-label={t("inbox.unread", { count })}>
            {count}
          </span>
        ) : null}
      </NavLink>
      <NavLink to="/account">{t("nav.account")}</NavLink>
    </nav>
  );
}

export function Loading() {
  return (
    <p className="state" role="status" aria-live="polite">
      {t("states.loading")}
    </p>
  );
}

export function Empty({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="state">
      <p>{children}</p>
      {action}
    </div>
  );
}

/** An error of a query: the API's own words, or that the phone is offline. */
export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const online = useOnline();
  const text = !online ? t("states.offlineAction") : isProblem(error) ? error.detail : t("states.error");
  return (
    <div className="state error" role="alert">
      <p>{text}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          {t("states.retry")}
        </button>
      ) : null}
    </div>
  );
}

/** What a query shows until it has data: loading, or its error. */
export function Pending({ query }: { query: { isPending: boolean; error: unknown; refetch: () => unknown } }) {
  if (query.error) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  return <Loading />;
}

/** The message of a failed action, above its form: the API's words (unless a field shows
 * them), or that the phone is offline when the request never reached the API. */
export function Alert({ problem, fields = false }: { problem: unknown; fields?: boolean }) {
  const online = useOnline();
  if (!problem) return null;
  if (fields && isProblem(problem) && problem.errors?.length) return null;
  const text =
    typeof problem === "string"
      ? problem
      : isProblem(problem)
        ? problem.detail
        : online
          ? t("states.error")
          : t("states.offlineAction");
  return (
    <p className="alert" role="alert">
      {text}
    </p>
  );
}

/** A field's message from a problem+json answer (422 `errors`), by its name. */
export function errorOf(problem: unknown, field: string): string | undefined {
  if (!isProblem(problem)) return undefined;
  return problem.errors?.find((e) => e.field === field)?.message;
}

type FieldProps = { label: string; error?: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>;

export function Field({ label, error, hint, ...input }: FieldProps) {
  const id = useId();
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={!!error} aria-describedby={described} {...input} />
      {hint && !error ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
}

type SelectProps = { label: string; error?: string; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>;

export function Select({ label, error, children, ...select }: SelectProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-invalid={!!error} aria-describedby={error ? `${id}-error` : undefined} {...select}>
        {children}
      </select>
      {error ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
}

export function Card({ to, children }: { to?: string; children: ReactNode }) {
  return to ? (
    <Link className="card" to={to}>
      {children}
    </Link>
  ) : (
    <div className="card">{children}</div>
  );
}

/** A status as words, in a chip. */
export function Chip({ children, tone = "neutral" }: { children: ReactNode; tone?: "neutral" | "good" | "warn" | "bad" }) {
  return <span className={`chip ${tone}`}>{children}</span>;
}
