// A keyboard user must be able to reach a code block that scrolls sideways (WCAG 2.1.1; axe's
// scrollable-region-focusable). The theme makes such blocks focusable when the page loads, judging by their size
// then; a block inside a collapsed solution has no size until it is opened. Judge each block again whenever its
// size changes, which includes the moment its solution opens.
document.addEventListener("DOMContentLoaded", () => {
  const judge = (block) => {
    const scrolls = block.scrollWidth > block.clientWidth || block.scrollHeight > block.clientHeight;
    block.tabIndex = scrolls ? 0 : -1;
  };
  const observer = new ResizeObserver((entries) => entries.forEach((entry) => judge(entry.target)));
  document.querySelectorAll("pre").forEach((block) => observer.observe(block));
});
