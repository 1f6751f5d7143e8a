// 「出典をコピー」: copies the citation's text. The button stays hidden without scripts, when
// the text can still be selected by hand.
"use strict";

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  // Plain http on an intranet has no clipboard API: select a copy of the text instead.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

for (const button of document.querySelectorAll("[data-copy-target]")) {
  const target = document.getElementById(button.dataset.copyTarget);
  const status = button.parentElement.querySelector("[role=status]");
  if (!target) {
    continue;
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    copyText(target.textContent.trim()).then(
      () => { status.textContent = button.dataset.copied; },
      () => { status.textContent = button.dataset.failed; },
    );
  });
}
