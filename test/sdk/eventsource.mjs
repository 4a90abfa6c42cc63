// A small EventSource for Node (20 has none), enough for the PocketBase JS SDK's
// RealtimeService: it streams GET url with fetch, parses the server-sent events as the
// HTML spec says (event, data, id, retry fields; comments; CR, LF or CRLF line ends) and
// dispatches MessageEvents with data and lastEventId. A failed or ended stream is
// retried after `retry` ms (3000 by default) until close() is called, with an `error`
// event each time. installEventSource() sets globalThis.EventSource when missing.

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class EventSource extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSED = CLOSED;

  CONNECTING = CONNECTING;
  OPEN = OPEN;
  CLOSED = CLOSED;

  #controller = null;
  #retry = 3000;
  #lastEventId = "";
  #timer = null;

  onopen = null;
  onmessage = null;
  onerror = null;

  constructor(url, init = {}) {
    super();
    this.url = String(new URL(url));
    this.withCredentials = !!init.withCredentials;
    this.readyState = CONNECTING;
    this.#connect();
  }

  close() {
    this.readyState = CLOSED;
    clearTimeout(this.#timer);
    this.#controller?.abort();
    this.#controller = null;
  }

  #fire(event) {
    const handler = this["on" + event.type];
    if (typeof handler === "function") {
      handler.call(this, event);
    }
    this.dispatchEvent(event);
  }

  async #connect() {
    const controller = new AbortController();
    this.#controller = controller;
    const headers = { Accept: "text/event-stream", "Cache-Control": "no-store" };
    if (this.#lastEventId) {
      headers["Last-Event-ID"] = this.#lastEventId;
    }

    let res;
    try {
      res = await fetch(this.url, { headers, signal: controller.signal, cache: "no-store" });
    } catch {
      this.#reconnect(controller);
      return;
    }
    if (this.readyState === CLOSED || controller.signal.aborted) {
      return;
    }
    const type = res.headers.get("content-type") ?? "";
    if (res.status !== 200 || !type.toLowerCase().startsWith("text/event-stream")) {
      // a fatal failure: no reconnection
      this.readyState = CLOSED;
      controller.abort();
      this.#fire(new Event("error"));
      return;
    }

    this.readyState = OPEN;
    this.#fire(new Event("open"));

    try {
      await this.#read(res.body, controller);
    } catch {
      // network error or abort: handled below
    }
    this.#reconnect(controller);
  }

  #reconnect(controller) {
    if (this.readyState === CLOSED || controller !== this.#controller) {
      return;
    }
    this.readyState = CONNECTING;
    this.#fire(new Event("error"));
    if (this.readyState === CLOSED) {
      return; // closed by an error handler
    }
    this.#timer = setTimeout(() => this.#connect(), this.#retry);
  }

  async #read(body, controller) {
    const decoder = new TextDecoder();
    let buffer = "";
    let data = "";
    let eventType = "";
    let hasData = false;

    const dispatch = () => {
      if (!hasData) {
        eventType = "";
        return;
      }
      const event = new MessageEvent(eventType || "message", {
        data: data.endsWith("\n") ? data.slice(0, -1) : data,
        lastEventId: this.#lastEventId,
        origin: new URL(this.url).origin,
      });
      data = "";
      hasData = false;
      eventType = "";
      if (this.readyState !== CLOSED) {
        this.#fire(event);
      }
    };

    const processLine = (line) => {
      if (line === "") {
        dispatch();
        return;
      }
      if (line.startsWith(":")) {
        return;
      }
      const colon = line.indexOf(":");
      let field = line;
      let value = "";
      if (colon >= 0) {
        field = line.slice(0, colon);
        value = line.slice(colon + 1);
        if (value.startsWith(" ")) {
          value = value.slice(1);
        }
      }
      switch (field) {
        case "event":
          eventType = value;
          break;
        case "data":
          data += value + "\n";
          hasData = true;
          break;
        case "id":
          if (!value.includes("\0")) {
            this.#lastEventId = value;
          }
          break;
        case "retry":
          if (/^\d+$/.test(value)) {
            this.#retry = Number(value);
          }
          break;
      }
    };

    for await (const chunk of body) {
      if (controller.signal.aborted) {
        return;
      }
      buffer += decoder.decode(chunk, { stream: true });
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        // a lone CR at the end may be the first half of CRLF: wait for more
        if (!m || (m[0] === "\r" && m.index === buffer.length - 1)) {
          break;
        }
        processLine(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
    }
  }
}

// installEventSource sets globalThis.EventSource to this implementation when the
// runtime has none, and returns the one in use.
export function installEventSource() {
  globalThis.EventSource ??= EventSource;
  return globalThis.EventSource;
}
