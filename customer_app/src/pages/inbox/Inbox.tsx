// The inbox: every message the customer was sent (unread first marked), mark read, and where
// each one leads (an order, a plan, a visit).
import { when } from "@homeplans/web-common/time";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api";
import { useAuth, useZone } from "../../auth";
import { t } from "../../strings";
import { Empty, Pending, Screen } from "../../ui";

function target(item: Schemas["InboxItem"]): string | null {
  const data = item.data as Record<string, string | undefined>;
  if (data.request_id) return `/visits/${data.request_id}`;
  if (data.subscription_id) return `/my-plans/${data.subscription_id}`;
  if (data.order_id) return `/orders/${data.order_id}`;
  return null;
}

export default function Inbox() {
  const { user } = useAuth();
  const zone = useZone();
  const queries = useQueryClient();
  const inbox = useQuery({
    queryKey: ["inbox", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me/notifications", { params: { query: { limit: 50 } } })),
  });
  const changed = () => {
    void queries.invalidateQueries({ queryKey: ["inbox"] });
    void queries.invalidateQueries({ queryKey: ["unread"] });
  };
  const read = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/me/notifications/{message_id}/read", { params: { path: { message_id: id } } })),
    onSuccess: changed,
  });
  const readAll = useMutation({ mutationFn: () => unwrap(api.POST("/api/v1/me/notifications/read-all")), onSuccess: changed });
  const unread = inbox.data?.items.filter((i) => !i.read_at).length ?? 0;
  return (
    <Screen
      title={t("inbox.title")}
      actions={
        <Link className="bar-link" to="/settings/notifications">
          {t("inbox.settings")}
        </Link>
      }
    >
      {!inbox.data ? (
        <Pending query={inbox} />
      ) : inbox.data.items.length === 0 ? (
        <Empty>{t("inbox.none")}</Empty>
      ) : (
        <>
          {unread > 0 ? (
            <button type="button" className="link" onClick={() => readAll.mutate()}>
              {t("inbox.markAll")}
            </button>
          ) : null}
          <ul className="list">
            {inbox.data.items.map((item) => {
              const to = target(item);
              return (
                <li key={item.id} className={item.read_at ? "read" : "unread"}>
                  <article className="card">
                    <h2>
                      {item.read_at ? null : (
                        <>
                          <span className="dot" aria-hidden /> <span className="sr-only">{t("inbox.new")}</span>
                        </>
                      )}{" "}
                      {item.subject}
                    </h2>
                    <p className="meta">{when(item.created_at, zone)}</p>
                    <p className="message">{item.text}</p>
                    <p>
                      {to ? (
                        <Link to={to} onClick={() => !item.read_at && read.mutate(item.id)}>
                          {t("inbox.open")}
                        </Link>
                      ) : null}{" "}
                      {!item.read_at ? (
                        <button type="button" className="link" onClick={() => read.mutate(item.id)}>
                          {t("inbox.markRead")}
                        </button>
                      ) : null}
                    </p>
                  </article>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </Screen>
  );
}
