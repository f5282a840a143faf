// Reading the messages an SMTP sink stored in a Maildir: just enough MIME to get at the text a
// person would read (multipart bodies, quoted-printable and base64 transfer encodings).

import fs from 'node:fs/promises';
import path from 'node:path';

/** Every message in the Maildir, parsed (and with its file name), oldest first. */
export async function readMaildir(dir) {
  const messages = [];
  for (const sub of ['new', 'cur']) {
    let names = [];
    try {
      names = await fs.readdir(path.join(dir, sub));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    for (const name of names) {
      const raw = await fs.readFile(path.join(dir, sub, name));
      messages.push({ name, ...parseMessage(raw.toString('latin1')) });
    }
  }
  return messages.sort((a, b) => compareDelivery(a.name, b.name));
}

// Maildir names written by Python's mailbox module: "SECONDS.M<microseconds>P<pid>Q<count>.host",
// the microseconds without leading zeros, so plain string order is wrong within a second.
function deliveryKey(name) {
  const match = /^(\d+)\.M(\d+)P(\d+)Q(\d+)/.exec(name);
  return match ? match.slice(1).map(Number) : null;
}

function compareDelivery(a, b) {
  const ka = deliveryKey(a);
  const kb = deliveryKey(b);
  if (ka && kb) {
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses an RFC 5322 message given as a latin1 string (one char per byte).
 * Returns { headers: Map(lower-case name → value), parts: [{ type, text }] } where parts are the
 * leaf bodies, decoded to Unicode text.
 */
export function parseMessage(raw) {
  const { headers, body } = splitEntity(raw);
  return { headers, parts: leafParts(headers, body) };
}

/** The text of the first part of type `type` ('text/plain' by default). */
export function textOf(message, type = 'text/plain') {
  const part = message.parts.find((p) => p.type === type);
  return part ? part.text : '';
}

function splitEntity(raw) {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers = new Map();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function contentType(headers) {
  const value = headers.get('content-type') || 'text/plain; charset=us-ascii';
  const [type, ...params] = value.split(';');
  const parameters = {};
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    parameters[param.slice(0, eq).trim().toLowerCase()] = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), parameters };
}

function leafParts(headers, body) {
  const { type, parameters } = contentType(headers);
  if (type.startsWith('multipart/') && parameters.boundary) {
    const delimiter = `--${parameters.boundary}`;
    const sections = body.split(new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}`));
    // sections[0] is the preamble; the section after the closing delimiter starts with '--'.
    return sections.slice(1)
      .filter((section) => !section.startsWith('--'))
      .flatMap((section) => {
        const entity = splitEntity(section.replace(/^[ \t]*\r?\n/, ''));
        return leafParts(entity.headers, entity.body);
      });
  }
  const bytes = decodeTransfer(body, (headers.get('content-transfer-encoding') || '7bit').toLowerCase());
  const charset = (parameters.charset || 'utf-8').toLowerCase();
  return [{ type, text: new TextDecoder(charset === 'us-ascii' ? 'utf-8' : charset).decode(bytes) }];
}

function decodeTransfer(body, encoding) {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable') {
    const unfolded = body.replace(/=\r?\n/g, ''); // soft line breaks
    return Buffer.from(unfolded.replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  }
  return Buffer.from(body, 'latin1');
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
