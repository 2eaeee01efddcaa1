// A keyboard user must be able to reach a box that scrolls sideways (WCAG 2.1.1; axe's scrollable-region-focusable),
// and every reader must see that it scrolls. The theme makes code blocks focusable when the page loads, judging by
// their size then; a block inside a collapsed solution has no size until it is opened, and on a phone figures, wide
// tables and wide display formulas scroll too. Judge each such box again whenever its size changes (which includes
// the moment its solution opens and a formula being typeset): a box that scrolls is focusable and carries the class
// "course-scrolls", whose edge shadows (course-a11y.css) show the way it scrolls.
document.addEventListener("DOMContentLoaded", () => {
  const BOXES = [
    "pre",
    ".bd-content div.cell_output figure > a.image-reference",
    ".bd-content div.cell_output",
    ".bd-content .step-explorer-view",
    ".bd-content .pst-scrollable-table-container",
    ".bd-content div.math",
    ".bd-content mjx-container[display='true']",
  ].join(", ");
  const judge = (box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || (box.tagName === "PRE" && box.scrollHeight > box.clientHeight);
    box.classList.toggle("course-scrolls", scrolls);
    if (scrolls) {
      box.tabIndex = 0;
    } else if (box.tagName === "PRE" || (box.tagName !== "A" && box.hasAttribute("tabindex"))) {
      box.tabIndex = -1;
    }
  };
  const observer = new ResizeObserver((entries) => entries.forEach((entry) => judge(entry.target)));
  const watch = () => document.querySelectorAll(BOXES).forEach((box) => observer.observe(box));
  watch();
  // MathJax typesets after this script runs: watch the formulas it inserts.
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(watch);
  window.addEventListener("load", watch);
});
