import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("SseParser", () => {
  it("joins an event split across chunks at any byte", () => {
    const text = 'event: dashboard\ndata: {"sales":\ndata: 1}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(events).toEqual([{ event: "dashboard", data: '{"sales":\n1}', id: undefined }]);
    }
  });

  it("ignores keep-alive comments and empty blocks", () => {
    const parser = new SseParser();
    expect(parser.push(": keep-alive\n\n\n")).toEqual([]);
    expect(parser.push("data: x\n\n")).toEqual([{ event: "message", data: "x", id: undefined }]);
  });

  it("reads CRLF line ends, even when a chunk ends between CR and LF", () => {
    const parser = new SseParser();
    const events = [...parser.push("event: a\r\ndata: 1\r"), ...parser.push("\n\r\n")];
    expect(events).toEqual([{ event: "a", data: "1", id: undefined }]);
  });

  it("keeps the last event id and resets the event name after each event", () => {
    const parser = new SseParser();
    const events = parser.push("id: 7\nevent: dashboard\ndata: 1\n\ndata: 2\n\n");
    expect(events).toEqual([
      { event: "dashboard", data: "1", id: "7" },
      { event: "message", data: "2", id: "7" },
    ]);
  });
});
