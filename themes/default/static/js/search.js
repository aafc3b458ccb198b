/* 站内搜索: reads ?q= and ?topic= from the address, queries the Pagefind index (Chinese words are
   segmented by Pagefind's extended indexer) and lists the results with highlighted excerpts. */
const form = document.querySelector("[data-search]");
const status = document.querySelector("[data-search-status]");
const list = document.querySelector("[data-search-results]");

function say(text) { status.textContent = text; }

async function run() {
  const params = new URLSearchParams(window.location.search);
  const q = (params.get("q") || "").trim();
  const topic = params.get("topic") || "";
  const input = form.querySelector("input[name=q]");
  const select = form.querySelector("select[name=topic]");
  input.value = q;
  if (select && [...select.options].some((o) => o.value === topic)) { select.value = topic; }
  if (!q) { say("请输入要搜索的内容。"); input.focus(); return; }
  say("正在搜索……");
  let pagefind;
  try {
    pagefind = await import(new URL(form.dataset.pagefind, window.location.href).href);
    await pagefind.options({ excerptLength: 40 });
  } catch (e) {
    say("搜索索引无法加载，请稍后再试。");
    return;
  }
  const search = await pagefind.search(q, topic ? { filters: { topic: topic } } : {});
  const found = await Promise.all(search.results.slice(0, 50).map((r) => r.data()));
  const root = new URL(form.dataset.root, window.location.href);
  list.replaceChildren();
  for (const item of found) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = new URL(item.url.replace(/^\//, ""), root).href;
    a.textContent = (item.meta && item.meta.title) || item.url;
    const p = document.createElement("p");
    p.innerHTML = item.excerpt;  // Pagefind escapes the text and adds <mark> around the matches
    li.append(a, p);
    list.append(li);
  }
  const scope = topic && select ? "（" + select.options[select.selectedIndex].text + "）" : "";
  say(found.length ? "“" + q + "”" + scope + "：找到 " + search.results.length + " 条结果" +
      (search.results.length > found.length ? "，显示前 " + found.length + " 条" : "") :
      "没有找到与“" + q + "”" + scope + "相关的内容。");
  document.title = q + " - " + document.title.replace(/^.* - (?=站内搜索)/, "");
}

run();
