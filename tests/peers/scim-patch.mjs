// Applies SCIM PATCH documents with the scim-patch package, for the API tests to compare the
// server's results with: reads [{resource, operations}] as JSON on stdin, writes the patched
// resources (or {"error": message}) as a JSON list on stdout.
import { scimPatch } from 'scim-patch';

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({ resource, operations }) => {
    try {
      return scimPatch(resource, operations);
    } catch (e) {
      return { error: String(e.message || e) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
