// The list form leaves its empty fields out of the URL, so the URL (and the export links
// built from it) says only what was chosen. The server treats an empty field as not given,
// so the form works the same without this script.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-drop-empty")) {
    return;
  }
  for (const field of form.elements) {
    const fillable = field instanceof HTMLSelectElement || field instanceof HTMLInputElement;
    if (fillable && field.name && !field.disabled && field.value.trim() === ""
        && field.type !== "checkbox" && field.type !== "radio") {
      field.disabled = true;
      field.dataset.droppedEmpty = "";
    }
  }
});

// Coming back to the page from the history shows the form as it was left: enabled.
window.addEventListener("pageshow", () => {
  for (const field of document.querySelectorAll("[data-dropped-empty]")) {
    field.disabled = false;
    delete field.dataset.droppedEmpty;
  }
});
