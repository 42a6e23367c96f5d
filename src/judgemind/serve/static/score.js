// judgemind serve, score pages: drag and drop with a code and an upload progress bar per clip (one request per
// clip, so each has its own bar), then the round page's live progress. Everything works without it too.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;  // text only: names are never parsed as HTML
    return e;
  }

  function mb(n) { return n < 1048576 ? Math.ceil(n / 1024) + " KB" : (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + " MB"; }

  // -- upload form ---------------------------------------------------------------------------------------------
  const form = document.getElementById("upload-form");
  if (form) {
    const input = document.getElementById("file-input");
    const zone = document.getElementById("drop-zone");
    const table = document.getElementById("file-list");
    const body = table.querySelector("tbody");
    const status = document.getElementById("upload-status");
    const defaultCode = document.getElementById("default-code");
    const maxBytes = Number(form.dataset.maxBytes);
    let files = [];

    function render() {
      body.textContent = "";
      table.hidden = files.length === 0;
      files.forEach((f, i) => {
        const tr = el("tr", { "class": "pending" });
        tr.appendChild(el("td", {}, f.file.name));
        tr.appendChild(el("td", {}, mb(f.file.size)));
        const code = el("input", { "class": "clip-code", "size": "8", "maxlength": "20", "placeholder": "code" });
        code.value = f.code;
        code.addEventListener("input", () => { f.code = code.value.trim(); f.touched = true; });
        const td = el("td"); td.appendChild(code); tr.appendChild(td);
        const bar = el("div", { "class": "bar" }); const fill = el("div"); fill.style.width = "0%"; bar.appendChild(fill);
        const tdb = el("td"); tdb.appendChild(bar); const note = el("span", { "class": "muted clip-note" }); tdb.appendChild(note);
        tr.appendChild(tdb);
        const rm = el("button", { "type": "button", "title": "remove" }, "✕");
        rm.addEventListener("click", () => { files.splice(i, 1); render(); });
        const tdr = el("td"); tdr.appendChild(rm); tr.appendChild(tdr);
        if (f.file.size > maxBytes) note.textContent = " larger than the limit";
        f.row = tr; f.fill = fill; f.note = note;
        body.appendChild(tr);
      });
    }

    function add(list) {
      for (const file of list) files.push({ file, code: defaultCode.value.trim() });
      render();
    }

    input.addEventListener("change", () => { add(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => add(e.dataTransfer.files));
    defaultCode.addEventListener("input", () => {
      for (const f of files) if (!f.touched) f.code = defaultCode.value.trim();
      document.querySelectorAll(".clip-code").forEach((c, i) => { if (files[i]) c.value = files[i].code; });
    });

    function send(f, round) {
      return new Promise((resolve) => {
        const data = new FormData();
        data.append("csrf", csrf);
        data.append("round", round);
        const name = form.querySelector('input[name="round_name"]');
        if (name) data.append("round_name", name.value);
        data.append("code", f.code);
        data.append("video", f.file, f.file.name);
        const xhr = new XMLHttpRequest();
        xhr.open("POST", "/api/upload");
        xhr.setRequestHeader("X-CSRF-Token", csrf);
        xhr.upload.onprogress = (e) => { if (e.lengthComputable) f.fill.style.width = (100 * e.loaded / e.total).toFixed(0) + "%"; };
        xhr.onload = () => {
          let doc = null;
          try { doc = JSON.parse(xhr.responseText); } catch (err) { doc = null; }
          if (doc && doc.jobs && doc.jobs.length) {
            f.note.textContent = " queued";
            f.row.className = "queued";
            resolve(doc.round);
          } else {
            const why = doc && doc.errors && doc.errors.length ? doc.errors[0].error : ("HTTP " + xhr.status);
            f.note.textContent = " not accepted: " + why;
            f.row.className = "failed";
            resolve(null);
          }
        };
        xhr.onerror = () => { f.note.textContent = " the upload failed (connection)"; resolve(null); };
        xhr.send(data);
      });
    }

    form.addEventListener("submit", async (e) => {
      if (files.length === 0) return;  // nothing dropped: the plain form posts what the file input holds
      e.preventDefault();
      const missing = files.filter((f) => !f.code);
      if (missing.length) { status.textContent = "give every clip its action code"; return; }
      status.textContent = "uploading…";
      const sel = form.querySelector('[name="round"]');
      let round = sel ? sel.value : "new";
      let ok = 0;
      for (const f of files) {  // one after the other: the first creates the round, the others join it
        const got = await send(f, round);
        if (got) { round = got; ok += 1; }
      }
      if (ok && ok === files.length) { window.location.href = "/rounds/" + round; return; }
      status.textContent = ok ? (ok + " of " + files.length + " clips queued; ") : "no clip was accepted";
      if (ok) {
        const a = el("a", { "href": "/rounds/" + round }, "open the round");
        status.appendChild(a);
      }
    });
  }

  // -- live progress -------------------------------------------------------------------------------------------
  const roundEl = document.getElementById("round");
  const jobEl = document.getElementById("job");
  async function poll(url, onDoc) {
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      let doc = null;
      try { const r = await fetch(url, { credentials: "same-origin" }); if (r.ok) doc = await r.json(); } catch (e) { doc = null; }
      if (doc && onDoc(doc)) return;
    }
  }
  if (roundEl && roundEl.dataset.finished !== "true") {
    const done0 = Number(roundEl.dataset.done), failed0 = Number(roundEl.dataset.failed);
    poll("/api/rounds/" + roundEl.dataset.round, (doc) => {
      for (const j of doc.jobs) {
        const tr = document.querySelector('tr.job[data-job="' + j.id + '"]');
        if (!tr) continue;
        const bar = tr.querySelector(".bar");
        bar.classList.toggle("busy", j.progress === null);
        bar.firstElementChild.style.width = ((j.progress || 0) * 100).toFixed(0) + "%";
        const st = tr.querySelector(".status");
        if (j.status === "running") st.textContent = "scoring" + (j.elapsed !== null ? " (" + j.elapsed + " s)" : "");
        else if (j.status === "queued") st.textContent = "waiting" + (j.position ? " (#" + j.position + " in the queue)" : "");
      }
      if (doc.counts.done !== done0 || doc.counts.failed !== failed0) { window.location.reload(); return true; }
      return false;
    });
  }
  if (jobEl && (jobEl.dataset.status === "queued" || jobEl.dataset.status === "running")) {
    poll("/api/rounds/" + (document.querySelector(".crumbs a").getAttribute("href").split("/").pop()), (doc) => {
      const j = doc.jobs.find((x) => x.id === jobEl.dataset.job);
      if (!j) return true;
      if (j.status === "done" || j.status === "failed") { window.location.reload(); return true; }
      const bar = document.getElementById("job-bar");
      if (bar) { bar.classList.toggle("busy", j.progress === null); bar.firstElementChild.style.width = ((j.progress || 0) * 100).toFixed(0) + "%"; }
      return false;
    });
  }

  // -- filters -------------------------------------------------------------------------------------------------
  const filter = document.getElementById("record-filter");
  if (filter) {
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      document.querySelectorAll("#record-list tbody tr").forEach((tr) => {
        tr.hidden = q !== "" && !tr.textContent.toLowerCase().includes(q);
      });
    });
  }
})();
