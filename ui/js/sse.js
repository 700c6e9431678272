// sse.js — Server-Sent Events parsed incrementally from a fetch body stream (the WHATWG event-stream
// format: data/event/id fields, comments skipped, CRLF/CR/LF line ends, one event per blank line).

/** Yields {event, data, id} for every event of `body` (a ReadableStream of bytes) as soon as its blank
 *  line arrives; an event left unterminated when the stream ends is yielded too. Events without data
 *  lines are not yielded. A consumer that stops early (break, return, throw) cancels the body. */
export async function* readEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = newEvent();
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const cut = buffer.search(/\r\n|\r|\n/);
        // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        if (cut < 0 || (!done && cut === buffer.length - 1 && buffer.endsWith("\r"))) break;
        const line = buffer.slice(0, cut);
        buffer = buffer.slice(cut + (buffer.startsWith("\r\n", cut) ? 2 : 1));
        if (line === "") {
          if (event.data.length) yield finished(event);
          event = newEvent();
        } else {
          addField(event, line);
        }
      }
      if (done) {
        ended = true;
        if (buffer !== "") addField(event, buffer);
        if (event.data.length) yield finished(event);
        return;
      }
    }
  } finally {
    if (ended) reader.releaseLock();
    else reader.cancel().catch(() => {});
  }
}

function newEvent() {
  return { event: "message", data: [], id: null };
}

function finished(event) {
  return { event: event.event, data: event.data.join("\n"), id: event.id };
}

function addField(event, line) {
  if (line.startsWith(":")) return; // a comment (keep-alive)
  const colon = line.indexOf(":");
  const field = colon < 0 ? line : line.slice(0, colon);
  let value = colon < 0 ? "" : line.slice(colon + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  if (field === "data") event.data.push(value);
  else if (field === "event") event.event = value;
  else if (field === "id") event.id = value;
}
