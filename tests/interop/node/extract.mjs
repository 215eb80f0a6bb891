// What the JavaScript feed parsers show of a feed file, in one shape for the interop tests.
//
// Reads a JSON list of [consumer, path] pairs on stdin and prints a JSON object
// {"<consumer> <path>": {feed: {...}, entries: [{...}]} | {error: "..."}}.
// A field a parser does not expose is left out; values are as the parser gives them
// (dates as ISO strings).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Readable } from "node:stream";

import { extractFromJson, extractFromXml } from "@extractus/feed-extractor";
import { parseFeed as rowanmanningParse } from "@rowanmanning/feed-parser";
import { parseFeed as feedsmithParse } from "feedsmith";

const require = createRequire(import.meta.url);
const RssParser = require("rss-parser");
const FeedParser = require("feedparser");

const iso = (value) => {
  if (value === undefined || value === null || value === "") return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
};
const text = (value) => (value && typeof value === "object" && "_" in value ? value._ : value);

async function rssParser(body) {
  const feed = await new RssParser().parseString(body);
  return {
    feed: { title: feed.title, link: feed.link },
    entries: feed.items.map((item) => ({
      id: item.guid ?? item.id,
      title: item.title,
      link: item.link,
      published: iso(item.isoDate ?? item.pubDate),
      summary: item.summary ?? item.content,
      content: item["content:encoded"] ?? item.content,
      categories: item.categories?.map(text), // rss-parser reads no Atom categories
      author: item.creator ?? item.author,
    })),
  };
}

function feedsmithAuthor(entry) {
  const author = (entry.authors ?? [])[0];
  if (author !== undefined) return typeof author === "string" ? author : author.name;
  return entry.dc?.creators?.[0] ?? entry.dc?.creator;
}

function feedsmithLink(feed) {
  if (feed.link !== undefined) return feed.link;
  if (feed.home_page_url !== undefined) return feed.home_page_url;
  return (feed.links ?? []).find((l) => (l.rel ?? "alternate") === "alternate")?.href;
}

async function feedsmith(body) {
  const { format, feed } = feedsmithParse(body.startsWith("{") ? JSON.parse(body) : body);
  const entries = feed.entries ?? feed.items ?? [];
  return {
    feed: { title: feed.title, link: feedsmithLink(feed), format },
    entries: entries.map((e) => ({
      id: format === "rss" ? e.guid?.value : e.id,
      title: e.title,
      link: e.link ?? e.url ?? (e.links ?? []).find((l) => (l.rel ?? "alternate") === "alternate")?.href,
      published: iso(e.published ?? e.pubDate ?? e.date_published),
      updated: iso(e.updated ?? e.date_modified),
      summary: e.summary ?? e.description,
      content: e.content?.encoded ?? e.content_html ?? e.content,
      categories: e.tags ?? (e.categories ?? []).map((c) => c.label ?? c.name ?? c.term),
      author: feedsmithAuthor(e),
    })),
  };
}

function extractorAuthor(entry) {
  const author = entry.author ?? entry["dc:creator"];
  if (author && typeof author === "object") return text(author.name ?? author);
  return author;
}

async function feedExtractor(body) {
  const options = {
    descriptionMaxLen: 100000,
    getExtraEntryFields: (entry) => ({ author: extractorAuthor(entry) }),
  };
  const feed = body.startsWith("{") ? extractFromJson(JSON.parse(body), options) : extractFromXml(body, options);
  return {
    feed: { title: feed.title, link: feed.link },
    entries: feed.entries.map((e) => ({
      id: e.id,
      title: e.title,
      link: e.link,
      published: iso(e.published),
      // its description: an Atom entry's summary, an RSS item's description, a JSON item's content
      [body.startsWith("{") ? "content" : "summary"]: e.description,
      author: e.author,
    })),
  };
}

async function rowanmanning(body) {
  const feed = rowanmanningParse(body);
  return {
    feed: { title: feed.title, link: feed.url, self: feed.self },
    entries: feed.items.map((e) => ({
      id: e.id,
      title: e.title,
      link: e.url,
      published: iso(e.published),
      updated: iso(e.updated),
      summary: e.description,
      content: e.content,
      categories: e.categories.map((c) => c.label ?? c.term),
      author: e.authors[0]?.name,
    })),
  };
}

function nodeFeedparser(body) {
  return new Promise((resolve, reject) => {
    const parser = new FeedParser({ normalize: true, addmeta: false });
    const items = [];
    parser.on("error", reject);
    parser.on("readable", () => {
      for (let item = parser.read(); item !== null; item = parser.read()) items.push(item);
    });
    parser.on("end", () =>
      resolve({
        feed: { title: parser.meta.title, link: parser.meta.link },
        entries: items.map((e) => ({
          id: e.guid,
          title: e.title,
          link: e.link,
          published: iso(e.pubdate),
          updated: iso(e.date),
          summary: e.summary,
          content: e.description,
          categories: e.categories,
          author: e.author,
        })),
      }),
    );
    Readable.from([body]).pipe(parser);
  });
}

const CONSUMERS = {
  "rss-parser": rssParser,
  feedsmith,
  "feed-extractor": feedExtractor,
  "@rowanmanning/feed-parser": rowanmanning,
  "node-feedparser": nodeFeedparser,
};

const jobs = JSON.parse(readFileSync(0, "utf8"));
const out = {};
for (const [consumer, path] of jobs) {
  try {
    out[`${consumer} ${path}`] = await CONSUMERS[consumer](readFileSync(path, "utf8"));
  } catch (error) {
    out[`${consumer} ${path}`] = { error: String(error) };
  }
}
process.stdout.write(JSON.stringify(out));
