// The staff import page (workspace/views/staff.py staff_import): the workbook is sent with
// XMLHttpRequest, whose upload.onprogress is the only honest measure of progress there is. The
// server imports the whole file within the request (server/registry/excel.py: one transaction,
// nothing kept when a row is wrong) and keeps no job record to poll, so once the bytes are sent the
// bar turns indeterminate ("importing") until the answer, the report, replaces the panel.
// Without this script the form posts as usual and the page comes back with the same report.

function bind(panel) {
  const form = panel.querySelector("#import-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    if (!window.FormData || !window.XMLHttpRequest) return; // the ordinary post
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    const box = form.querySelector("#import-progress");
    const bar = box.querySelector("progress");
    const words = box.querySelector("#import-progress-text");
    const button = form.querySelector("button[type=submit]");
    box.hidden = false;
    bar.value = 0;
    words.textContent = form.dataset.uploading;
    button.disabled = true;

    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.onprogress = (progress) => {
      if (!progress.lengthComputable) return;
      const percent = Math.round((progress.loaded / progress.total) * 100);
      bar.value = percent;
      words.textContent = `${form.dataset.uploading} ${percent}%`;
    };
    request.upload.onload = () => {
      bar.removeAttribute("value"); // indeterminate: the server is importing, for as long as it takes
      words.textContent = form.dataset.importing;
      box.classList.add("importing");
    };
    const failed = () => {
      delete form.dataset.busy;
      button.disabled = false;
      box.classList.remove("importing");
      bar.value = 0;
      words.textContent = form.dataset.failed;
    };
    request.onerror = failed;
    request.onload = () => {
      const type = request.getResponseHeader("Content-Type") || "";
      if (!type.startsWith("text/html")) {
        failed();
        return;
      }
      const page = new DOMParser().parseFromString(request.responseText, "text/html");
      const fresh = page.getElementById("import-panel");
      if (!fresh) {
        // Not the import page's answer (signed out meanwhile, say): go where the answer came from.
        window.location.assign(request.responseURL || form.action);
        return;
      }
      panel.replaceWith(fresh);
      bind(fresh);
      const report = fresh.querySelector("#import-report");
      (report || fresh).scrollIntoView({ block: "nearest" });
    };
    request.send(new FormData(form));
  });
}

const panel = document.getElementById("import-panel");
if (panel) bind(panel);
