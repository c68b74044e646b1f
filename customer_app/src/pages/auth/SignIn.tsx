// Sign in: email or phone and password, or a code sent by SMS; Google when the server has
// Firebase configured. The refresh token stays in the app's HttpOnly cookie.
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { publicApi, session, type Problem } from "../../api";
import { useConfig } from "../../auth";
import { t } from "../../strings";
import { Alert, Field, Screen, errorOf } from "../../ui";
import { googleSignIn } from "./google";

export function useAfterSignIn() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get("next");
  return () => navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
}

export default function SignIn() {
  const [mode, setMode] = useState<"password" | "code">("password");
  const config = useConfig();
  const done = useAfterSignIn();
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <Screen title={t("auth.signIn")} back>
      <div className="chips" role="group">
        <button type="button" aria-pressed={mode === "password"} onClick={() => setMode("password")}>
          {t("auth.withPassword")}
        </button>
        <button type="button" aria-pressed={mode === "code"} onClick={() => setMode("code")}>
          {t("auth.withCode")}
        </button>
      </div>
      {mode === "password" ? <PasswordForm onDone={done} /> : <CodeForm onDone={done} />}
      {config.data?.firebase ? (
        <>
          <Alert problem={problem} />
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setProblem(null);
              void googleSignIn(config.data!.firebase!).then((r) => (r.ok ? done() : setProblem(r.problem)));
            }}
          >
            {t("auth.google")}
          </button>
        </>
      ) : null}
      <p className="meta">
        {t("auth.noAccount")} <Link to="/sign-up">{t("auth.signUp")}</Link>
      </p>
    </Screen>
  );
}

function PasswordForm({ onDone }: { onDone: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        setBusy(true);
        const result = await session.signIn(String(data.get("identifier")), String(data.get("password")));
        setBusy(false);
        if (result.ok) onDone();
        else setProblem(result.problem);
      }}
    >
      <Field label={t("auth.identifier")} name="identifier" autoComplete="username" required error={errorOf(problem, "identifier")} />
      <Field
        label={t("auth.password")}
        name="password"
        type="password"
        autoComplete="current-password"
        required
        error={errorOf(problem, "password")}
      />
      <Alert problem={problem} fields />
      <button type="submit" className="primary" disabled={busy}>
        {t("auth.signIn")}
      </button>
    </form>
  );
}

function CodeForm({ onDone }: { onDone: () => void }) {
  const [phone, setPhone] = useState("");
  const [sent, setSent] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setProblem(null);
        if (!sent) {
          const { error } = await publicApi.POST("/api/v1/auth/phone/start", { body: { phone } });
          if (error) setProblem(error as Problem);
          else setSent(true);
          return;
        }
        const code = String(new FormData(e.currentTarget).get("code"));
        const result = await session.signInWith("/phone/verify", { phone, code });
        if (result.ok) onDone();
        else setProblem(result.problem);
      }}
    >
      <Field
        label={t("auth.phone")}
        name="phone"
        type="tel"
        autoComplete="tel"
        inputMode="tel"
        required
        value={phone}
        onChange={(e) => setPhone(e.target.value)}
        error={errorOf(problem, "phone")}
      />
      {sent ? (
        <>
          <p className="meta" role="status">
            {t("auth.codeSent")}
          </p>
          <Field label={t("auth.code")} name="code" inputMode="numeric" autoComplete="one-time-code" required error={errorOf(problem, "code")} />
        </>
      ) : null}
      <Alert problem={problem} fields />
      <button type="submit" className="primary">
        {sent ? t("auth.signIn") : t("auth.sendCode")}
      </button>
    </form>
  );
}
