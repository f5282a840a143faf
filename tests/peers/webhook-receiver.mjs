// A webhook receiver for the API tests, as an integrator would write one: every request is
// checked with the Standard Webhooks library (new Webhook(secret).verify(body, headers)),
// once per secret it has been given, and recorded with what it answered.
//
//   node webhook-receiver.mjs PORT RECORD_FILE
//
// It listens on 127.0.0.1:PORT and appends one JSON line per request to RECORD_FILE
// (kept across restarts, so a test can stop it — "down" — and start it again). A test
// steers it through POST /_control with a JSON body:
//   {"secrets": ["whsec_…", …]}         the secrets to verify with (each one separately)
//   {"mode": "ok" | "fail" | "hang" | "redirect", "status": 500}
// ok answers 200 with a body longer than 1 KiB (the server keeps its first KiB); fail
// answers `status`; hang answers nothing until the client gives up; redirect answers 302
// to /moved on this receiver (a request there is recorded with path "/moved": a followed
// redirect shows).
import fs from "node:fs";
import http from "node:http";
import { Webhook } from "standardwebhooks";

const port = Number(process.argv[2]);
const recordFile = process.argv[3];
let secrets = [];
let mode = "ok";
let failStatus = 500;

function record(entry) {
  fs.appendFileSync(recordFile, JSON.stringify(entry) + "\n");
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    if (req.url === "/_control") {
      const c = JSON.parse(body || "{}");
      if (c.secrets) secrets = c.secrets;
      if (c.mode) mode = c.mode;
      if (c.status) failStatus = c.status;
      res.writeHead(204).end();
      return;
    }
    const headers = {
      "webhook-id": req.headers["webhook-id"],
      "webhook-timestamp": req.headers["webhook-timestamp"],
      "webhook-signature": req.headers["webhook-signature"],
    };
    const verified = secrets.map((s) => {
      try {
        new Webhook(s).verify(body, headers);
        return true;
      } catch (e) {
        return false;
      }
    });
    let payload = null;
    try {
      payload = JSON.parse(body);
    } catch (e) {
      payload = null;
    }
    record({ path: req.url, method: req.method, headers, verified, payload, body, mode, at: Date.now() });
    if (mode === "hang") return; // the client's timeout ends it
    if (mode === "redirect") {
      res.writeHead(302, { Location: `http://127.0.0.1:${port}/moved` }).end();
      return;
    }
    if (mode === "fail") {
      res.writeHead(failStatus, { "Content-Type": "text/plain" }).end("receiver failing on purpose");
      return;
    }
    res.writeHead(200, { "Content-Type": "text/plain" }).end("accepted " + "x".repeat(2000));
  });
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
