// A request's photos, fetched with the bearer token (they are private) and shown as images.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, session, unwrap } from "../../api";
import { t } from "../../strings";

function Photo({ url, alt }: { url: string; alt: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    void session.authedFetch(new Request(url)).then(async (response) => {
      if (!response.ok) return;
      made = URL.createObjectURL(await response.blob());
      setSrc(made);
    });
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [url]);
  return src ? <img src={src} alt={alt} className="photo" /> : <span className="photo placeholder" aria-hidden />;
}

export function Photos({ requestId, refreshKey = 0 }: { requestId: string; refreshKey?: number }) {
  const photos = useQuery({
    queryKey: ["photos", requestId, refreshKey],
    queryFn: () => unwrap(api.GET("/api/v1/service-requests/{request_id}/photos", { params: { path: { request_id: requestId } } })),
  });
  if (!photos.data || photos.data.length === 0) return null;
  return (
    <section aria-label={t("jobs.photos")}>
      <h2>{t("jobs.photos")}</h2>
      <div className="photos">
        {photos.data.map((p, i) => (
          <Photo key={p.id} url={p.url} alt={`${t("jobs.photos")} ${i + 1}`} />
        ))}
      </div>
    </section>
  );
}
