// The signing forms of the O&M pages (an ES module, no build step): a signature drawn on a canvas
// (签名板) with a finger, a pen or the mouse, sent as the PNG data URL the API takes; the browser's
// location when the work photo is chosen; a void refused before sending when it has no reason; the
// review queue's "select the whole page".
//
// The strokes are kept as points in CSS pixels, so the pad can be redrawn when its size changes (a
// phone turned sideways). The PNG is drawn at the screen's pixel ratio (at most 3): a signature
// drawn on a phone is as sharp as one drawn on a desktop. Blank pads are refused by the server
// (media_rules/signatures.py); the page only keeps an untouched pad from being sent.

const INK = "#111827";
const LINE_WIDTH = 2.6;

function signaturePad(root) {
  const canvas = root.querySelector("canvas");
  const input = root.querySelector("input[type=hidden]");
  const error = root.querySelector("[data-pad-error]");
  const context = canvas.getContext("2d");
  const strokes = [];
  let current = null;
  let restored = null; // a signature sent before (the page shown again with an error)

  function fit() {
    const ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 3);
    const box = canvas.getBoundingClientRect();
    const width = Math.round(box.width * ratio);
    const height = Math.round(box.height * ratio);
    if (width === canvas.width && height === canvas.height) return;
    canvas.width = width;
    canvas.height = height;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    redraw();
  }

  function pen() {
    context.strokeStyle = INK;
    context.lineWidth = LINE_WIDTH;
    context.lineCap = "round";
    context.lineJoin = "round";
  }

  function segment(from, to) {
    pen();
    context.beginPath();
    context.moveTo(from[0], from[1]);
    context.lineTo(to[0], to[1]);
    context.stroke();
  }

  function drawStroke(points) {
    const dot = [points[0][0] + 0.1, points[0][1] + 0.1];
    if (points.length === 1) segment(points[0], dot);
    for (let i = 1; i < points.length; i += 1) segment(points[i - 1], points[i]);
  }

  function redraw() {
    const box = canvas.getBoundingClientRect();
    context.clearRect(0, 0, box.width, box.height);
    if (restored) context.drawImage(restored, 0, 0, box.width, box.height);
    strokes.forEach(drawStroke);
  }

  function save() {
    const signed = strokes.length > 0 || restored !== null;
    input.value = signed ? canvas.toDataURL("image/png") : "";
    root.classList.toggle("signed", signed);
    if (signed) {
      root.classList.remove("invalid");
      if (error) error.hidden = true;
    }
  }

  function at(event) {
    const box = canvas.getBoundingClientRect();
    const source = event.touches ? event.touches[0] : event;
    return [source.clientX - box.left, source.clientY - box.top];
  }

  function start(event) {
    event.preventDefault();
    current = [at(event)];
    strokes.push(current);
    drawStroke(current);
  }

  function move(event) {
    if (!current) return;
    event.preventDefault();
    const point = at(event);
    segment(current[current.length - 1], point);
    current.push(point);
  }

  function end() {
    if (!current) return;
    current = null;
    save();
  }

  if (window.PointerEvent) {
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button > 0) return;
      canvas.setPointerCapture(event.pointerId);
      start(event);
    });
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  } else {
    // Browsers without pointer events (older WebViews): mouse and touch separately.
    canvas.addEventListener("mousedown", start);
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", end);
    canvas.addEventListener("touchstart", start, { passive: false });
    canvas.addEventListener("touchmove", move, { passive: false });
    canvas.addEventListener("touchend", end);
    canvas.addEventListener("touchcancel", end);
  }

  root.querySelector("[data-clear]").addEventListener("click", () => {
    strokes.length = 0;
    restored = null;
    current = null;
    redraw();
    save();
  });

  window.addEventListener("resize", fit);
  fit();
  if (input.value.startsWith("data:image/png;base64,")) {
    const image = new Image();
    image.onload = () => {
      restored = image;
      redraw();
      root.classList.add("signed");
    };
    image.src = input.value;
  }

  return {
    signed: () => input.value !== "",
    complain() {
      root.classList.add("invalid");
      if (error) {
        error.textContent = root.dataset.emptyMessage;
        error.hidden = false;
      }
      canvas.scrollIntoView({ block: "center" });
      canvas.focus();
    },
  };
}

// Where the signer is when the work photo is chosen, if the browser tells (WGS-84, as the
// Geolocation API gives it): the photo's capture fix, judged like a phone's. Refused or slow: the
// photo goes without one, as a phone's without a fix does.
function locateOnPhoto(form) {
  const photo = form.querySelector("input[type=file][name=work_photo]");
  if (!photo || !navigator.geolocation || !window.isSecureContext) return;
  const set = (name, value) => {
    const field = form.querySelector(`input[name=${name}]`);
    if (field) field.value = value;
  };
  photo.addEventListener("change", () => {
    navigator.geolocation.getCurrentPosition(
      (position) => {
        set("longitude", position.coords.longitude);
        set("latitude", position.coords.latitude);
        set("accuracy_m", Math.round(position.coords.accuracy));
        set("fix_time", new Date(position.timestamp).toISOString());
      },
      () => {},
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

for (const form of document.querySelectorAll("form[data-signing]")) {
  const root = form.querySelector("[data-signature-pad]");
  const pad = root ? signaturePad(root) : null;
  locateOnPhoto(form);
  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    const reason = form.querySelector("textarea[name=reason]");
    if (button && button.dataset.needsReason && reason && !reason.value.trim()) {
      event.preventDefault();
      const field = reason.closest(".field");
      field.classList.add("invalid");
      let said = field.querySelector("p.error[data-said]");
      if (!said) {
        said = document.createElement("p");
        said.className = "error";
        said.dataset.said = "";
        field.append(said);
      }
      said.textContent = button.dataset.needsReason;
      reason.focus();
      return;
    }
    if (pad && !pad.signed()) {
      event.preventDefault();
      pad.complain();
    }
  });
}

for (const box of document.querySelectorAll("input[data-select-all]")) {
  const form = box.closest("form");
  const name = box.dataset.selectAll;
  const all = () => [...form.querySelectorAll(`input[type=checkbox][name="${name}"]`)];
  box.addEventListener("change", () => {
    for (const tick of all()) tick.checked = box.checked;
  });
  form.addEventListener("change", (event) => {
    if (event.target !== box && event.target.name === name) box.checked = all().every((t) => t.checked);
  });
}
