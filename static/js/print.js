// Printing: Chromium leaves a closed <details> closed on paper, so the charts' tables are
// opened for the print and closed again after; the title block gets the day of printing
// (the page itself may have been rendered, and cached, earlier).
"use strict";

const openedForPrint = [];

window.addEventListener("beforeprint", () => {
  for (const details of document.querySelectorAll("details:not([open])")) {
    details.open = true;
    openedForPrint.push(details);
  }
  const date = document.querySelector("[data-print-date]");
  if (date) {
    date.textContent = new Intl.DateTimeFormat(document.documentElement.lang || "ja", {
      dateStyle: "long",
    }).format(new Date());
  }
  const url = document.querySelector("[data-print-url]");
  if (url) {
    url.textContent = window.location.href;
  }
});

window.addEventListener("afterprint", () => {
  for (const details of openedForPrint.splice(0)) {
    details.open = false;
  }
});
