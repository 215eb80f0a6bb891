// What the Podcast Index's own parser (podcast-partytime) reads of podcast feeds, for tests/test_podcast_apps.py.
//
// Reads feed file paths from the command line and prints a JSON object {"<path>": <partytime's feed> | {error}}.
// partytime's own clock ("lastUpdate") is left out.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const partytime = require("podcast-partytime");

const out = {};
for (const path of process.argv.slice(2)) {
  try {
    const { lastUpdate, ...feed } = partytime.parseFeed(readFileSync(path, "utf8"));
    out[path] = feed;
  } catch (error) {
    out[path] = { error: String(error) };
  }
}
process.stdout.write(JSON.stringify(out));
