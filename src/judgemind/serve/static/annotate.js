// judgemind serve, the annotate editor: a frame-accurate scrubber (the server sends each decoded frame as a JPEG,
// so frame n is the n-th decoded frame whatever the browser's video decoder would do), stage boundaries and
// deductions set at the current frame, the stage bar.
"use strict";
(function () {
  const ed = document.getElementById("editor");
  if (!ed) return;
  const n = Number(ed.dataset.frames), fps = Number(ed.dataset.fps) || 25;
  const base = "/annotate/frame?kind=" + encodeURIComponent(ed.dataset.kind) + "&ident=" + encodeURIComponent(ed.dataset.ident) + "&n=";
  const img = document.getElementById("frame");
  const slider = document.getElementById("scrubber");
  const number = document.getElementById("frame-number");
  const time = document.getElementById("frame-time");
  const loaded = document.getElementById("loaded");
  const bar = document.getElementById("stagebar");
  const cursor = document.getElementById("cursor");
  const cache = new Array(n);
  let cur = Math.max(0, Math.min(n - 1, Number(slider.value) || 0));
  let timer = null;

  // fetch every frame once, a few at a time, nearest the current frame first
  let nLoaded = 0;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.abs(a - cur) - Math.abs(b - cur));
  let next = 0;
  function fetchOne() {
    if (next >= order.length) return;
    const i = order[next++];
    const im = new Image();
    im.onload = im.onerror = () => { nLoaded += 1; loaded.textContent = String(nLoaded); fetchOne(); };
    im.src = base + i;
    cache[i] = im;
  }
  for (let k = 0; k < 4; k++) fetchOne();

  function val(id) { const v = parseInt(document.getElementById(id).value, 10); return Number.isFinite(v) ? v : null; }

  function show(i) {
    cur = Math.max(0, Math.min(n - 1, i));
    img.src = base + cur;  // the same URL as the cached image: the browser serves it from its cache
    slider.value = String(cur);
    number.value = String(cur);
    time.textContent = (cur / fps).toFixed(2) + " s";
    cursor.style.left = (100 * cur / Math.max(1, n)) + "%";
  }

  function drawStages() {
    const s = val("f-start"), b1 = val("f-b1"), b2 = val("f-b2"), e = val("f-end");
    const segs = bar.querySelectorAll(".seg");
    const edges = [s, b1, b2, e];
    segs.forEach((seg, k) => {
      const a = edges[k], b = edges[k + 1];
      if (a === null || b === null || b <= a) { seg.style.display = "none"; return; }
      seg.style.display = "block";
      seg.style.left = (100 * a / n) + "%";
      seg.style.width = (100 * (b - a) / n) + "%";
    });
    bar.querySelectorAll(".tick").forEach((t) => t.remove());
    document.querySelectorAll("#deductions tbody tr").forEach((tr) => {
      const f = parseInt(tr.querySelector(".ded-from").value, 10);
      if (!Number.isFinite(f)) return;
      const t = document.createElement("div");
      t.className = "tick";
      t.style.left = (100 * f / n) + "%";
      t.title = tr.querySelector(".ded-item").selectedOptions[0].textContent;
      bar.appendChild(t);
    });
  }

  function play() {
    if (timer) { clearInterval(timer); timer = null; document.getElementById("play").textContent = "▶"; return; }
    document.getElementById("play").textContent = "❚❚";
    timer = setInterval(() => { if (cur >= n - 1) play(); else show(cur + 1); }, 1000 / fps);
  }

  slider.addEventListener("input", () => show(Number(slider.value)));
  number.addEventListener("change", () => show(Number(number.value)));
  document.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => show(cur + Number(b.dataset.step))));
  document.getElementById("play").addEventListener("click", play);
  bar.addEventListener("click", (e) => { const r = bar.getBoundingClientRect(); show(Math.floor(n * (e.clientX - r.left) / r.width)); });
  document.addEventListener("keydown", (e) => {
    const t = e.target.tagName;
    if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA") return;
    if (e.key === "ArrowLeft") { show(cur - (e.shiftKey ? 10 : 1)); e.preventDefault(); }
    else if (e.key === "ArrowRight") { show(cur + (e.shiftKey ? 10 : 1)); e.preventDefault(); }
    else if (e.key === "Home") { show(0); e.preventDefault(); }
    else if (e.key === "End") { show(n - 1); e.preventDefault(); }
    else if (e.key === " ") { play(); e.preventDefault(); }
  });

  document.querySelectorAll("[data-set]").forEach((b) => b.addEventListener("click", () => {
    document.getElementById(b.dataset.set).value = String(cur + Number(b.dataset.plus || 0));
    drawStages();
  }));
  ["f-start", "f-b1", "f-b2", "f-end"].forEach((id) => document.getElementById(id).addEventListener("input", drawStages));

  function wire(tr) {
    const sel = tr.querySelector(".ded-item"), pts = tr.querySelector(".ded-points");
    sel.addEventListener("change", () => {
      const o = sel.selectedOptions[0];
      if (o && o.dataset.min && !pts.value) pts.value = o.dataset.min;
      drawStages();
    });
    tr.querySelector(".ded-from").addEventListener("input", drawStages);
    tr.querySelector(".ded-go").addEventListener("click", () => { const f = parseInt(tr.querySelector(".ded-from").value, 10); if (Number.isFinite(f)) show(f); });
    tr.querySelector(".ded-remove").addEventListener("click", () => { tr.remove(); drawStages(); });
  }
  document.querySelectorAll("#deductions tbody tr").forEach(wire);
  document.getElementById("add-deduction").addEventListener("click", () => {
    const row = document.getElementById("ded-template").content.firstElementChild.cloneNode(true);
    row.querySelector(".ded-from").value = String(cur);
    row.querySelector(".ded-to").value = String(cur + 1);
    document.querySelector("#deductions tbody").appendChild(row);
    wire(row);
    drawStages();
    row.querySelector(".ded-item").focus();
  });

  show(cur);
  drawStages();
})();
