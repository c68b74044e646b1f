// Server-sent events read with fetch streaming (not EventSource, which cannot send the bearer
// header). `SseParser` is the text/event-stream grammar (WHATWG HTML, "Parsing an event
// stream"); `follow` keeps a stream open, reconnecting after a drop or a refreshed token, and
// resuming where it was: it sends the last event id it had (`Last-Event-ID`), so the server
// replays what was missed.
import { API } from "./session";

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;

  /** Feed a chunk of text; returns the events it completed (a chunk may end mid-line). */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const done = this.line(line);
      if (done) out.push(done);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return null;
      }
      const done: SseEvent = { event: this.event || "message", data: this.data.join("\n"), id: this.id };
      this.data = [];
      this.event = "";
      return done;
    }
    if (line.startsWith(":")) return null; // a comment: the server's keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
    return null;
  }
}

export type LiveState = "connecting" | "live" | "reconnecting" | "stopped";

export interface FollowOptions {
  /** The app session's fetch (bearer token, refreshed on a 401). */
  fetch: (request: Request) => Promise<Response>;
  onEvent: (event: SseEvent) => void;
  onState?: (state: LiveState) => void;
  /** Delay before reconnecting, by attempt (1, 2, ...), in ms. */
  backoff?: (attempt: number) => number;
}

/** Follow `path` (under /api/v1) until `stop()` is called. */
export function follow(path: string, options: FollowOptions): { stop: () => void } {
  const controller = new AbortController();
  const backoff = options.backoff ?? ((n: number) => Math.min(500 * 2 ** (n - 1), 10_000));
  let attempt = 0;
  let lastId: string | undefined;

  const run = async () => {
    while (!controller.signal.aborted) {
      options.onState?.(attempt === 0 ? "connecting" : "reconnecting");
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        if (lastId !== undefined) headers["Last-Event-ID"] = lastId;
        const response = await options.fetch(
          new Request(`${API}${path}`, { headers, signal: controller.signal }),
        );
        if (response.status === 204) {
          options.onState?.("stopped"); // the server says the stream has ended: nothing to resume
          return;
        }
        if (response.status === 401 || response.status === 403) {
          options.onState?.("stopped"); // signed out or not allowed: the app says so
          return;
        }
        if (response.ok && response.body) {
          const parser = new SseParser();
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let first = true;
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            for (const event of parser.push(value)) {
              if (first) {
                first = false;
                attempt = 0;
                options.onState?.("live");
              }
              if (event.id !== undefined) lastId = event.id;
              options.onEvent(event);
            }
          }
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      attempt += 1;
      await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
    }
  };
  void run();
  return {
    stop: () => {
      controller.abort();
      options.onState?.("stopped");
    },
  };
}
