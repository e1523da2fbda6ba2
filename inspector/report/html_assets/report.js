/* inspector HTML report: draws the treemaps, the strip lists and the category file lists
   from the embedded JSON. No request of any kind; strings only ever via textContent. */
(function () {
  "use strict";
  const view = JSON.parse(document.getElementById("inspector-view").textContent);
  const docEl = document.getElementById("inspector-document");
  let docPromise = null;
  const LIST_ROWS = 500;

  function loadDoc() {
    if (!docPromise) {
      const raw = JSON.parse(docEl.textContent);
      if (docEl.dataset.encoding !== "gzip+base64") {
        docPromise = Promise.resolve(raw);
      } else {
        const bin = Uint8Array.from(atob(raw), (c) => c.charCodeAt(0));
        const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"));
        docPromise = new Response(stream).text().then(JSON.parse);
      }
    }
    return docPromise;
  }

  // the project's one escaping rule (inspector.visible: the same sets, the same forms),
  // for what the page shows; by code points ("u"), so a tag or an astral mark is one
  const UNSAFE = new RegExp(
    "[\\x00-\\x1f\\x7f-\\x9f\\xad\\u061c\\u180e\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u206f" +
    "\\ufeff\\ufff9-\\ufffb\\ud800-\\udfff\\u{13430}-\\u{1343f}\\u{1bca0}-\\u{1bca3}" +
    "\\u{1d173}-\\u{1d17a}\\u{e0000}-\\u{e001f}]" +
    "|(?<![^\\x00-\\xbf\\u2000-\\u206f\\ud800-\\udfff])[\\u200c\\u200d]" +
    "|(?<![\\u{1f3f4}\\u{e0020}-\\u{e007f}])[\\u{e0020}-\\u{e007f}]+", "gu");
  function shown(c) {
    let n = c.codePointAt(0);
    if (n >= 0xdc80 && n <= 0xdcff) return "\\x" + (n - 0xdc00).toString(16);  // a non-UTF-8 byte, as Python keeps it
    if (n < 256) return "\\x" + n.toString(16).padStart(2, "0");
    return n > 0xffff ? "\\U" + n.toString(16).padStart(8, "0") : "\\u" + n.toString(16).padStart(4, "0");
  }
  function vis(s) {
    return String(s).replace(UNSAFE, (m) => Array.from(m, shown).join(""));
  }
  function human(n) {
    if (n < 1000) return n + " B";
    const units = ["kB", "MB", "GB", "TB"];
    let v = n;
    for (const u of units) { v /= 1000; if (v < 999.95 || u === "TB") return v.toFixed(1) + " " + u; }
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // ---- category bars → file list ----
  function categoryPaths(doc, cat, image) {
    if (Array.isArray(doc.categories)) {
      const row = doc.categories.find((r) => r.name === cat);
      return row ? row.per_image[image].paths : [];
    }
    return (doc.categories[cat] || { paths: [] }).paths;  // inspector.export/v1
  }
  const list = document.getElementById("filelist");
  document.querySelectorAll("button.bar").forEach((bar) => {
    bar.addEventListener("click", () => {
      loadDoc().then((doc) => {
        const image = +bar.dataset.image, cat = bar.dataset.cat;
        const paths = categoryPaths(doc, cat, image);
        document.querySelectorAll("button.bar.on").forEach((b) => b.classList.remove("on"));
        bar.classList.add("on");
        list.querySelector("h3").textContent =
          vis(cat) + " in " + vis(view.labels[image]) + ": " + paths.length.toLocaleString("en") + " files";
        const ol = list.querySelector("ol");
        ol.replaceChildren(...paths.slice(0, LIST_ROWS).map((p) => el("li", vis(p))));
        list.querySelector(".more").textContent = paths.length > LIST_ROWS
          ? "… and " + (paths.length - LIST_ROWS).toLocaleString("en") + " more (all are in the embedded JSON)" : "";
        list.hidden = false;
      });
    });
  });

  // ---- strip lists ----
  document.querySelectorAll("#strips .strip").forEach((box) => {
    const s = view.strips.find((x) => x.image === +box.dataset.image);
    box.appendChild(el("h3", vis(view.labels[0]) + " → " + vis(view.labels[s.image]) + ": " +
      s.count.toLocaleString("en") + " executables left out"));
    const groups = new Map();
    for (const row of s.rows) {
      const key = row[2] || "—";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(row);
    }
    for (const [cat, rows] of groups) {
      const det = box.appendChild(el("details"));
      det.open = cat === "shell" || cat === "package_manager";
      const sum = det.appendChild(el("summary"));
      sum.appendChild(el("i", undefined, "sw cat-" + cat));
      sum.appendChild(document.createTextNode(vis(cat) + ": " + rows.length.toLocaleString("en") +
        " executables, " + human(rows.reduce((a, r) => a + r[1], 0))));
      const table = det.appendChild(el("table")), head = el("tr");
      ["path", "bytes", "package"].forEach((h) => head.appendChild(el("th", h)));
      table.appendChild(el("thead")).appendChild(head);
      const body = table.appendChild(el("tbody"));
      for (const [path, bytes, , pkg] of rows) {
        const tr = body.appendChild(el("tr"));
        tr.dataset.path = path;
        tr.appendChild(el("td")).appendChild(el("code", vis(path)));
        tr.appendChild(el("td", human(bytes), "num")).title = bytes.toLocaleString("en") + " bytes";
        tr.appendChild(el("td", vis(pkg || "—")));
      }
    }
    if (s.count > s.rows.length) box.appendChild(el("p", "… and " + (s.count - s.rows.length) + " more", "more"));
  });

  // ---- treemaps ----
  const palette = {};
  for (const name of view.categories) {
    const probe = el("i", undefined, "sw cat-" + name);
    document.body.appendChild(probe);
    palette[name] = getComputedStyle(probe).backgroundColor;
    probe.remove();
  }
  function hue(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0; return h % 360; }
  const colourers = {
    category: (n) => n[2] < 0 ? "#c7c7c7" : palette[view.categories[n[2]]],
    layer: (n, img) => { const k = view.layers[img]; const t = k > 1 ? n[3] / (k - 1) : 0;
      return "hsl(" + Math.round(220 - 180 * t) + ",60%," + Math.round(38 + 24 * t) + "%)"; },
    package: (n) => n[4] < 0 ? "#c7c7c7" : "hsl(" + hue(view.packages[n[4]]) + ",55%,55%)",
  };

  function squarify(items, x, y, w, h, place) {
    const total = items.reduce((s, k) => s + k[1], 0);
    if (!(w > 0 && h > 0 && total > 0)) { items.forEach((k) => place(k, x, y, 0, 0)); return; }
    const scale = (w * h) / total;
    let i = 0;
    while (i < items.length) {
      const side = Math.min(w, h);
      let start = i, sum = 0, mx = 0, mn = Infinity, best = Infinity;
      while (i < items.length) {
        const a = items[i][1] * scale, s2 = sum + a, mx2 = Math.max(mx, a), mn2 = Math.min(mn, a);
        const worst = Math.max(side * side * mx2 / (s2 * s2), (s2 * s2) / (side * side * mn2));
        if (i > start && worst > best) break;
        sum = s2; mx = mx2; mn = mn2; best = worst; i++;
      }
      if (w >= h) {
        const rw = sum / h; let yy = y;
        for (let j = start; j < i; j++) { const kh = items[j][1] * scale / rw; place(items[j], x, yy, rw, kh); yy += kh; }
        x += rw; w -= rw;
      } else {
        const rh = sum / w; let xx = x;
        for (let j = start; j < i; j++) { const kw = items[j][1] * scale / rh; place(items[j], xx, y, kw, rh); xx += kw; }
        y += rh; h -= rh;
      }
    }
  }

  const drawn = [];
  function draw(svg, img) {
    const tree = view.treemaps[img];
    const W = svg.clientWidth || 600, H = svg.clientHeight || Math.round(W / 1.6);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    // to scale: each image's area in proportion to its bytes (the largest fills its frame)
    const largest = Math.max(...view.treemaps.map((t) => t[1])) || 1;
    const k = toScale ? Math.sqrt(tree[1] / largest) : 1;
    const nodes = [], parents = [], boxes = [];
    function visit(node, parent, x, y, w, h, depth) {
      const i = nodes.length;
      nodes.push(node); parents.push(parent); boxes.push([x, y, w, h]);
      if (Array.isArray(node[2])) {
        const pad = depth > 0 && w > 6 && h > 6 ? 1.5 : 0;
        squarify(node[2], x + pad, y + pad, Math.max(0, w - 2 * pad), Math.max(0, h - 2 * pad),
          (k, a, b, c, d) => visit(k, i, a, b, c, d, depth + 1));
      }
    }
    visit(tree, -1, 0, 0, W * k, H * k, 0);
    const colour = colourers[mode];
    const parts = [];
    for (let i = 0; i < nodes.length; i++) {
      const [x, y, w, h] = boxes[i], dir = Array.isArray(nodes[i][2]);
      parts.push('<rect class="n ' + (dir ? "d" : "f") + '" data-i="' + i + '" x="' + x.toFixed(1) +
        '" y="' + y.toFixed(1) + '" width="' + w.toFixed(1) + '" height="' + h.toFixed(1) + '"' +
        (dir ? "" : ' fill="' + colour(nodes[i], img) + '"') + "></rect>");
    }
    svg.innerHTML = parts.join("");  // numbers and colours only: no image string
    drawn[img] = { svg, nodes, parents };
  }
  function pathOf(d, i) {
    const names = [];
    for (let k = i; k > 0; k = d.parents[k]) names.push(d.nodes[k][0]);
    return "/" + names.reverse().join("/");
  }
  function recolour() {
    drawn.forEach((d, img) => d.svg.querySelectorAll("rect.f").forEach((r) =>
      r.setAttribute("fill", colourers[mode](d.nodes[+r.dataset.i], img))));
  }
  let mode = "category", toScale = true;
  const scaleBox = document.querySelector('input[name="scale"]');
  if (scaleBox) scaleBox.addEventListener("change", () => { toScale = scaleBox.checked; redraw(); });
  function redraw() {
    document.querySelectorAll("figure.tm").forEach((fig) => draw(fig.querySelector("svg"), +fig.dataset.image));
  }
  document.querySelectorAll('input[name="colour"]').forEach((input) =>
    input.addEventListener("change", () => { mode = input.value; recolour(); }));

  const tip = document.getElementById("tip");
  document.querySelectorAll("figure.tm").forEach((fig) => {
    const img = +fig.dataset.image, svg = fig.querySelector("svg");
    draw(svg, img);
    svg.addEventListener("mousemove", (ev) => {
      const i = ev.target.dataset && ev.target.dataset.i;
      if (i === undefined) { tip.hidden = true; return; }
      const d = drawn[img], n = d.nodes[+i], lines = [vis(pathOf(d, +i)), human(n[1]) + " (" + n[1].toLocaleString("en") + " bytes)"];
      if (!Array.isArray(n[2])) {
        if (n[5]) lines.push(n[5].toLocaleString("en") + " files drawn as one; coloured by the largest:");
        lines.push("category: " + vis(n[2] < 0 ? "—" : view.categories[n[2]]),
          "package: " + vis(n[4] < 0 ? "—" : view.packages[n[4]]), "layer: " + (n[3] + 1));
      }
      tip.textContent = lines.join("\n");
      tip.hidden = false;
      tip.style.left = Math.min(ev.clientX + 14, innerWidth - 360) + "px";
      tip.style.top = (ev.clientY + 14) + "px";
    });
    svg.addEventListener("mouseleave", () => { tip.hidden = true; });
  });

  let width = innerWidth;
  addEventListener("resize", () => {
    if (innerWidth === width) return;
    width = innerWidth;
    redraw();
  });
  addEventListener("beforeprint", () => document.querySelectorAll("details").forEach((d) => { d.open = true; }));
  requestAnimationFrame(() => requestAnimationFrame(() => {
    document.documentElement.dataset.drawnMs = String(Math.round(performance.now()));
  }));
})();
