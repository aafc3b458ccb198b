/* 站内搜索: reads ?q= and ?topic= from the address and searches zhuanti's own index
   (../search-index/, docs/search.md). The query is cut into tokens exactly as builder/search/tokens.py
   cuts pages (CJK character bigrams, lone CJK characters, lower-cased Latin/digit words; keep both in
   step); every token must occur in a page; pages are ranked by BM25 term weights, titles counting
   five times. Only the entry, the delta and the shards of the query's tokens are fetched; excerpts
   are cut from the result pages themselves (same origin), fetched for the results shown. */
const form = document.querySelector("[data-search]");
const status = document.querySelector("[data-search-status]");
const list = document.querySelector("[data-search-results]");
const more = document.querySelector("[data-search-more]");
const indexRoot = new URL(form.dataset.index, window.location.href);
const siteRoot = new URL(form.dataset.root, window.location.href);

const CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff";
const BIGRAM = new RegExp("(?=([" + CJK + "]{2}))", "g");
const MAX_WORD = 32;
const SINGLE = new RegExp("(?<![" + CJK + "])[" + CJK + "](?![" + CJK + "])|[a-z0-9]{1," + MAX_WORD + "}", "g");
const RUN = new RegExp("[" + CJK + "]+|[a-z0-9]+", "g");
const K1 = 1.2;
const PAGE = 20;

function say(text) { status.textContent = text; }

function normalize(text) {
  return text.replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/g,
    (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).toLowerCase();
}

function tokens(text) {
  const t = normalize(text);
  const found = [...t.matchAll(BIGRAM)].map((m) => m[1]).concat(t.match(SINGLE) || []);
  return [...new Set(found)];
}

function fnv1a(term) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(term)) { h = Math.imul(h ^ b, 0x01000193) >>> 0; }
  return h;
}

const fetched = new Map();
function getJSON(rel, fresh) {
  if (!fresh && fetched.has(rel)) { return fetched.get(rel); }
  const promise = fetch(new URL(rel, indexRoot), { cache: fresh ? "no-cache" : "default" }).then((r) => {
    if (!r.ok) { throw new Error(rel + ": " + r.status); }
    return r.json();
  });
  if (!fresh) { fetched.set(rel, promise); }
  return promise;
}

/* The entry and the delta of one base (fetched again once if a publish fell between the two). */
async function openIndex() {
  for (let attempt = 0; attempt < 2; attempt++) {
    const entry = await getJSON("index.json", true);
    const delta = await getJSON("delta.json", true).catch(() => null);
    if (delta && delta.base === entry.id) { return { entry, delta }; }
    if (attempt === 1) { return { entry, delta: { base: entry.id, dead: [], docs: [] } }; }
  }
}

/* term → Map(base id → weight), read from the term's shard. */
async function postings(entry, term) {
  const shard = fnv1a(term) % entry.shards;
  const data = await getJSON("t/" + shard + "-" + entry.t[shard] + ".json", false);
  const flat = data[term] || [];
  const out = new Map();
  let id = 0;
  for (let j = 0; j < flat.length; j += 2) {
    id = j === 0 ? flat[0] : id + flat[j];
    out.set(id, flat[j + 1]);
  }
  return out;
}

async function docMeta(entry, id) {
  const shard = Math.floor(id / entry.per);
  const rows = await getJSON("d/" + shard + "-" + entry.d[shard] + ".json", false);
  return rows[id - shard * entry.per];
}

async function find(q, topic) {
  const { entry, delta } = await openIndex();
  const terms = tokens(q);
  const dead = new Set(delta.dead);
  const lists = await Promise.all(terms.map((t) => postings(entry, t)));
  const inTopic = topic ? await postings(entry, "#" + topic) : null;
  const total = entry.docs - dead.size + delta.docs.length;
  const idf = terms.map((t, i) => {
    let df = 0;
    for (const id of lists[i].keys()) { if (!dead.has(id)) { df++; } }
    for (const d of delta.docs) { if (t in d[4]) { df++; } }
    return Math.log(1 + (total - df + 0.5) / (df + 0.5));
  });
  const score = (weights) => weights.reduce((s, w, i) => s + idf[i] * w * (K1 + 1) / (w + K1), 0);
  const hits = [];
  const smallest = lists.reduce((a, b) => (b.size < a.size ? b : a));
  for (const id of smallest.keys()) {
    if (dead.has(id) || (inTopic && !inTopic.has(id)) || !lists.every((l) => l.has(id))) { continue; }
    hits.push({ id, score: score(lists.map((l) => l.get(id))) });
  }
  for (const [url, title, slug, date, weights] of delta.docs) {
    if ((topic && slug !== topic) || !terms.every((t) => t in weights)) { continue; }
    hits.push({ doc: [url, title, slug, date], score: score(terms.map((t) => weights[t])) });
  }
  // Best first; equal scores in index order (base ids follow the URLs; delta pages after them).
  // Titles and dates are fetched only for the results shown (their document shards).
  hits.sort((a, b) => b.score - a.score || (a.doc ? Infinity : a.id) - (b.doc ? Infinity : b.id) ||
    (a.doc && b.doc ? (a.doc[0] < b.doc[0] ? -1 : 1) : 0));
  return hits.map((h) => ({ score: h.score, meta: () => (h.doc ? Promise.resolve(h.doc) : docMeta(entry, h.id)) }));
}

/* A piece of the page's indexed text around the first match, the query's words marked. */
async function excerpt(url, q) {
  const page = await fetch(url).then((r) => (r.ok ? r.text() : ""));
  const doc = new DOMParser().parseFromString(page, "text/html");
  const body = doc.querySelector("[data-search-body]");
  if (!body) { return null; }
  body.querySelectorAll("[data-search-ignore], script, style").forEach((n) => n.remove());
  const text = body.textContent.replace(/\s+/g, " ").trim();
  const plain = normalize(text);
  const words = normalize(q).match(RUN) || [];
  let needles = words.filter((w) => plain.includes(w));
  if (!needles.length) { needles = tokens(q).filter((t) => plain.includes(t)); }
  const at = needles.length ? Math.min(...needles.map((w) => plain.indexOf(w))) : 0;
  const start = Math.max(0, at - 30);
  const end = Math.min(text.length, at + 80);
  const p = document.createElement("p");
  if (start > 0) { p.append("……"); }
  let i = start;
  while (i < end) {
    let next = end;
    let len = 0;
    for (const w of needles) {
      const k = plain.indexOf(w, i);
      if (k !== -1 && k < end && (k < next || (k === next && w.length > len))) { next = k; len = w.length; }
    }
    p.append(text.slice(i, next));
    if (len) {
      const mark = document.createElement("mark");
      mark.textContent = text.slice(next, next + len);
      p.append(mark);
    }
    i = next + len;
  }
  if (end < text.length) { p.append("……"); }
  return p;
}

function topicTitles() {
  const select = form.querySelector("select[name=topic]");
  return new Map(select ? [...select.options].filter((o) => o.value).map((o) => [o.value, o.text]) : []);
}

async function show(results, from, q) {
  const titles = topicTitles();
  const shown = await Promise.all(results.slice(from, from + PAGE).map((r) => r.meta()));
  for (const [url, title, topic, date] of shown) {
    const r = { url, title, topic, date };
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = new URL(r.url, siteRoot).href;
    a.textContent = r.title || r.url;
    li.append(a);
    const about = [titles.get(r.topic), r.date].filter(Boolean).join(" · ");
    if (about) {
      const meta = document.createElement("p");
      meta.className = "search-meta";
      meta.textContent = about;
      li.append(meta);
    }
    list.append(li);
    excerpt(a.href, q).then((p) => { if (p) { li.append(p); } }).catch(() => {});
  }
  more.hidden = results.length <= from + PAGE;
  more.onclick = () => show(results, from + PAGE, q);
}

async function run() {
  const params = new URLSearchParams(window.location.search);
  const q = (params.get("q") || "").trim();
  const topic = params.get("topic") || "";
  const input = form.querySelector("input[name=q]");
  const select = form.querySelector("select[name=topic]");
  input.value = q;
  if (select && [...select.options].some((o) => o.value === topic)) { select.value = topic; }
  if (!q) { say("请输入要搜索的内容。"); input.focus(); return; }
  if (!tokens(q).length) { say("请输入汉字、字母或数字。"); return; }
  say("正在搜索……");
  let results;
  try {
    results = await find(q, topic);
  } catch (e) {
    say("搜索索引无法加载，请稍后再试。");
    return;
  }
  list.replaceChildren();
  try {
    await show(results, 0, q);
  } catch (e) {
    say("搜索索引无法加载，请稍后再试。");
    return;
  }
  const scope = topic && select && select.value === topic ? "（" + select.options[select.selectedIndex].text + "）" : "";
  // A lone character is only found where it stands alone (the index holds character pairs).
  const lone = (normalize(q).match(RUN) || []).some((w) => w.length === 1 && w >= "\u3400");
  say(results.length ? "“" + q + "”" + scope + "：找到 " + results.length + " 条结果" :
      "没有找到与“" + q + "”" + scope + "相关的内容。" + (lone ? "单个汉字请与前后的字连在一起搜索，如“税收”。" : ""));
  document.title = q + " - " + document.title.replace(/^.* - (?=站内搜索)/, "");
}

run();
