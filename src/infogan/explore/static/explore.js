// The explorer page: builds a control per code from /api/model, renders through /api/render as the
// controls move, and reads uploads back through /api/encode. No framework: the page is small.
"use strict";

const DEBOUNCE_MS = 15; // renders take a few ms: wait only for the slider to settle between events
const SLIDER_STEP = 0.01;

const state = {
  model: null,
  timer: null,
  inFlight: false, // one render request at a time ...
  pending: false, // ... and one more with the latest values once it returns
  imageUrl: null,
  showRegenerated: false, // the next rendered image is the regeneration of an upload
};

const $ = (id) => document.getElementById(id);

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function categoricalNames() {
  return state.model.code_names.slice(0, state.model.categorical.length);
}

function continuousNames() {
  return state.model.code_names.slice(state.model.categorical.length);
}

// --- building the controls from the model's description

function describeModel(model) {
  const data = model.data ? `${model.dataset} (${model.data})` : model.dataset;
  const size = `${model.image_size}×${model.image_size}×${model.channels}`;
  const codes = [
    ...model.categorical.map((k, i) => `cat${i}: ${k} values`),
    `${model.continuous} continuous`,
    `noise ${model.noise}`,
  ];
  return `${model.run} · step ${model.step} · data ${data} · ${size} · ${codes.join(" · ")}`;
}

function addCategorical(name, size) {
  const box = element("div", { class: "code" });
  const select = element("select", { id: name });
  for (let value = 0; value < size; value++) select.append(element("option", { value: String(value) }, String(value)));
  const label = element("label", { for: name });
  label.append(element("span", {}, name), select);
  box.append(label);
  $("categorical").append(box);
  select.addEventListener("change", scheduleRender);
  $("vary").append(element("option", { value: name.slice(3) }, `all values of ${name}`));
}

function addContinuous(name, limit) {
  const box = element("div", { class: "code" });
  const output = element("output", { id: `${name}-value`, for: name }, "0.00");
  const label = element("label", { for: name });
  label.append(element("span", {}, name), output);
  const slider = element("input", {
    id: name, type: "range", min: String(-limit), max: String(limit), step: String(SLIDER_STEP), value: "0",
  });
  const scale = element("div", { class: "scale", "aria-hidden": "true" });
  for (let value = -limit; value <= limit; value++) {
    const mark = element("span", {}, String(value));
    const fraction = (value + limit) / (2 * limit);
    mark.style.left = `calc(var(--thumb) / 2 + (100% - var(--thumb)) * ${fraction})`;
    scale.append(mark);
  }
  box.append(label, slider, scale);
  $("continuous").append(box);
  slider.addEventListener("input", () => {
    output.textContent = Number(slider.value).toFixed(2);
    scheduleRender();
  });
}

// --- the latent, the render loop and the equivalent command

function latent() {
  const vary = $("vary").value;
  return {
    seed: $("seed").value === "" ? null : Number($("seed").value), // an empty field: the server says what to fix
    categorical: categoricalNames().map((name) => Number($(name).value)),
    continuous: continuousNames().map((name) => Number($(name).value)),
    vary: vary === "" ? null : Number(vary),
  };
}

function shellQuote(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\"'\"'")}'`;
}

// `infogan sample` with the same codes writes the same PNG, byte for byte.
function command() {
  const words = ["infogan", "sample", shellQuote(state.model.run), "--seed", $("seed").value];
  if (state.model.categorical.length) words.push("--cat", ...categoricalNames().map((name) => $(name).value));
  if (state.model.continuous) words.push("--cont", ...continuousNames().map((name) => $(name).value));
  if ($("vary").value !== "") words.push("--vary-cat", $("vary").value);
  words.push("--out", "explore.png");
  return words.join(" ");
}

function scheduleRender() {
  clearTimeout(state.timer);
  state.timer = setTimeout(render, DEBOUNCE_MS);
}

async function render() {
  if (state.inFlight) {
    state.pending = true;
    return;
  }
  state.inFlight = true;
  try {
    do {
      state.pending = false;
      for (const name of categoricalNames()) $(name).disabled = $("vary").value === name.slice(3);
      $("command").textContent = command();
      const started = performance.now();
      const response = await fetch("/api/render", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(latent()),
      });
      if (response.ok) {
        showImage(await response.blob(), response.headers.get("Server-Timing"), performance.now() - started);
      } else {
        showStatus($("status"), (await response.json()).error, true);
      }
    } while (state.pending);
  } catch (error) {
    showStatus($("status"), `the server did not answer: ${error}`, true);
  } finally {
    state.inFlight = false;
  }
}

function showImage(blob, timing, roundTripMs) {
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  state.imageUrl = URL.createObjectURL(blob);
  $("image").src = state.imageUrl;
  $("image").classList.toggle("grid", $("vary").value !== "");
  $("download").href = state.imageUrl;
  if (state.showRegenerated) {
    $("regenerated").src = state.imageUrl;
    state.showRegenerated = false;
  }
  const server = /dur=([\d.]+)/.exec(timing || "");
  const serverText = server ? `rendered in ${server[1]} ms on the server, ` : "";
  showStatus($("status"), `${serverText}${roundTripMs.toFixed(0)} ms round trip`);
}

function showStatus(node, text, isError = false) {
  node.textContent = text;
  node.classList.toggle("error", isError);
}

async function copyCommand() {
  const text = $("command").textContent;
  try {
    await navigator.clipboard.writeText(text);
    showStatus($("status"), "command copied");
  } catch {
    // No clipboard access (e.g. not a secure context): select the text for the user to copy.
    const range = document.createRange();
    range.selectNodeContents($("command"));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    showStatus($("status"), "press Ctrl+C to copy the selected command");
  }
}

function newNoise() {
  $("seed").value = String(crypto.getRandomValues(new Uint32Array(1))[0]);
  scheduleRender();
}

// --- uploads: Q's reading of a real image

async function encodeUpload() {
  const file = $("file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("image", file);
  form.append("invert", $("invert").checked ? "true" : "false");
  showStatus($("upload-status"), "encoding…");
  const response = await fetch("/api/encode", { method: "POST", body: form });
  const answer = await response.json();
  if (!response.ok) {
    showStatus($("upload-status"), answer.error, true);
    $("encoded").hidden = true;
    return;
  }
  showStatus($("upload-status"), `Q's reading of ${file.name}:`);
  $("input-image").src = answer.input;
  const rows = $("codes-found");
  rows.replaceChildren();
  for (const code of answer.categorical) {
    const probability = (100 * code.probabilities[code.value]).toFixed(0);
    rows.append(tableRow(code.name, `${code.value} (p = ${probability}%)`));
    $(code.name).value = String(code.value);
  }
  const limit = state.model.limits.continuous;
  for (const code of answer.continuous) {
    const clamped = Math.min(limit, Math.max(-limit, code.value));
    const note = clamped === code.value ? "" : ` (slider clamped to ${clamped})`;
    rows.append(tableRow(code.name, `${code.value.toFixed(3)}${note}`));
    $(code.name).value = clamped.toFixed(2); // the slider's step, SLIDER_STEP
    $(`${code.name}-value`).textContent = Number($(code.name).value).toFixed(2);
  }
  $("vary").value = "";
  $("encoded").hidden = false;
  state.showRegenerated = true;
  scheduleRender();
}

function tableRow(...cells) {
  const row = element("tr");
  for (const cell of cells) row.append(element("td", {}, cell));
  return row;
}

// --- start

async function start() {
  const response = await fetch("/api/model");
  state.model = await response.json();
  $("model-info").textContent = describeModel(state.model);
  $("seed").max = String(state.model.limits.seed - 1);
  $("invert-option").hidden = !state.model.invert; // grey models only: a photo has no strokes to invert
  state.model.categorical.forEach((size, i) => addCategorical(categoricalNames()[i], size));
  continuousNames().forEach((name) => addContinuous(name, state.model.limits.continuous));
  $("seed").addEventListener("input", scheduleRender);
  $("vary").addEventListener("change", scheduleRender);
  $("new-noise").addEventListener("click", newNoise);
  $("copy").addEventListener("click", copyCommand);
  $("file").addEventListener("change", encodeUpload);
  $("invert").addEventListener("change", encodeUpload);
  render();
}

start();
