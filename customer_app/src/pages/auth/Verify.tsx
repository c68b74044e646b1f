// Confirm the email or phone with the code sent to it; a new code once the cooldown has passed
// (the seconds left are shown).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { api, unwrap, type Schemas } from "../../api";
import { useMe } from "../../auth";
import { t } from "../../strings";
import { Alert, Field, Pending, Screen, errorOf } from "../../ui";

type Verification = Schemas["VerificationOut"];

function secondsUntil(iso: string | null | undefined, now: number): number {
  return iso ? Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000)) : 0;
}

export default function Verify() {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [state, setState] = useState<Verification | null>((location.state as Verification | null) ?? null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const channel: "email" | "phone" =
    state?.channel ?? (me.data && me.data.email && !me.data.email_verified ? "email" : "phone");
  const start = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/verification/{channel}", { params: { path: { channel } } })),
    onSuccess: setState,
  });
  useEffect(() => {
    if (!state && me.data && !start.isPending && !start.isSuccess && !start.isError) start.mutate();
  }, [state, me.data, start]);
  const resend = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/verification/{channel}/resend", { params: { path: { channel } } })),
    onSuccess: setState,
  });
  const confirm = useMutation({
    mutationFn: (code: string) =>
      unwrap(api.POST("/api/v1/auth/verification/{channel}/confirm", { params: { path: { channel } }, body: { code } })),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["me"] });
      navigate("/", { replace: true });
    },
  });
  if (!me.data) {
    return (
      <Screen title={t("auth.verifyTitle", { channel })}>
        <Pending query={me} />
      </Screen>
    );
  }
  const destination = channel === "email" ? me.data.email : me.data.phone;
  const wait = secondsUntil(state?.resend_available_at, now);
  const problem = confirm.error ?? resend.error ?? start.error;
  return (
    <Screen title={t("auth.verifyTitle", { channel })}>
      <p className="lead">{t("auth.verifyIntro", { destination: destination ?? "" })}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          confirm.mutate(String(new FormData(e.currentTarget).get("code")));
        }}
      >
        <Field label={t("auth.code")} name="code" inputMode="numeric" autoComplete="one-time-code" required error={errorOf(problem, "code")} />
        <Alert problem={problem} fields />
        <button type="submit" className="primary" disabled={confirm.isPending}>
          {t("auth.verify")}
        </button>
      </form>
      <p className="meta" aria-live="polite">
        {wait > 0 ? (
          t("auth.resendIn", { seconds: wait })
        ) : (
          <button type="button" className="link" onClick={() => resend.mutate()} disabled={resend.isPending}>
            {t("auth.resend")}
          </button>
        )}
      </p>
      <button type="button" className="link" onClick={() => navigate("/")}>
        {t("auth.skip")}
      </button>
    </Screen>
  );
}
