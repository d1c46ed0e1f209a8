// The workspace's own script (an ES module, no build step). htmx does the partial updates; this
// only keeps a double click from sending a form twice.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented) return; // a page's own check stopped it: it may be sent again
  if (form.matches("form[method=post]:not([hx-post])")) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  }
});
