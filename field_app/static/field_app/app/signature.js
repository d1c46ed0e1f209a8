// 签字: a signature pad on a <canvas>, drawn with a finger (pointer events), kept as a PNG data URL
// (what the server's signature fields take: media_rules/signatures.py refuses a blank one).

const INK = "#111";

/**
 * Attach a pad to `canvas`; `onStart()` as a stroke begins, `onChange(dataUrl)` after it (and "" when
 * cleared). `initial`: a
 * data URL drawn back (the signature kept on the phone). Returns {clear()}.
 */
export function signaturePad(canvas, { initial = "", onStart = () => {}, onChange = () => {} } = {}) {
  const ratio = Math.max(1, window.devicePixelRatio || 1);
  const rect = canvas.getBoundingClientRect();
  canvas.width = Math.round((rect.width || 320) * ratio);
  canvas.height = Math.round((rect.height || 160) * ratio);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = INK;
  let drawing = false;
  let marked = Boolean(initial);
  if (initial) {
    const img = new Image();
    img.onload = () => ctx.drawImage(img, 0, 0, rect.width || 320, rect.height || 160);
    img.src = initial;
  }
  const at = (event) => {
    const r = canvas.getBoundingClientRect();
    return [event.clientX - r.left, event.clientY - r.top];
  };
  canvas.style.touchAction = "none"; // the finger draws; the page does not scroll under it
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    onStart();
    canvas.setPointerCapture?.(event.pointerId);
    const [x, y] = at(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y + 0.1);
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = at(event);
    ctx.lineTo(x, y);
    ctx.stroke();
    marked = true;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    if (marked) onChange(canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", end);
  return {
    clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      marked = false;
      onChange("");
    },
  };
}
