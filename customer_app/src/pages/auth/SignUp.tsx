// A new account: a name, an email or a phone number, a password; then the code sent to it.
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { session, type Problem, type Schemas } from "../../api";
import { t } from "../../strings";
import { Alert, Field, Screen, errorOf } from "../../ui";

export default function SignUp() {
  const navigate = useNavigate();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Screen title={t("auth.signUp")} back>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const contact = String(data.get("contact")).trim();
          const body = {
            name: String(data.get("name")).trim() || null,
            password: String(data.get("password")),
            ...(contact.includes("@") ? { email: contact } : { phone: contact }),
          };
          setBusy(true);
          const result = await session.signInWith<Schemas["AppRegisteredOut"]>("/register", body);
          setBusy(false);
          if (result.ok) navigate("/verify", { replace: true, state: result.session.verification });
          else setProblem(result.problem);
        }}
      >
        <Field label={t("auth.name")} name="name" autoComplete="name" error={errorOf(problem, "name")} />
        <Field
          label={`${t("auth.email")} / ${t("auth.phone")}`}
          name="contact"
          autoComplete="email"
          required
          error={errorOf(problem, "email") ?? errorOf(problem, "phone")}
        />
        <Field
          label={t("auth.password")}
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
          hint={t("auth.passwordHint")}
          error={errorOf(problem, "password")}
        />
        <Alert problem={problem} fields />
        <button type="submit" className="primary" disabled={busy}>
          {t("auth.signUp")}
        </button>
      </form>
      <p className="meta">
        {t("auth.haveAccount")} <Link to="/sign-in">{t("auth.signIn")}</Link>
      </p>
    </Screen>
  );
}
