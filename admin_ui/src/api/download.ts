// A file the API makes (CSV), fetched with the bearer header and handed to the browser to save.
import { API, authedFetch, problemOf, toQuery } from "./session";

export async function download(path: string, params: Record<string, unknown>, filename: string): Promise<void> {
  const response = await authedFetch(new Request(`${API}${path}${toQuery(params)}`));
  if (!response.ok) throw await problemOf(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
