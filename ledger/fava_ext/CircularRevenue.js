// roundtrip's Fava extension, front end: wide enough amount columns for these books.
//
// Fava gives each amount of its tree tables (income statement, balance sheet, trial
// balance) a column 9-10em wide, room for about 15 characters of its monospaced font; the
// books' amounts run to 21 (-452,370,800,000.00), so they overran into the next column.
// Fava calls init() once when the ledger is opened, before the first page; the style then
// holds on every page of the ledgers that load this extension (each netted view).
const STYLE_ID = "roundtrip-wide-amounts";

// 22 characters of Fira Mono (0.6em each: a minus, 13 digits, 4 separators, the point and
// the cents) and the cell's padding. In em, not ch: the header row's cells are set in the
// proportional font, and must stay as wide as the amounts under them. The "Other" column
// keeps Fava's width.
const CSS = `
.tree-table .num:not(.other), .tree-table-new .num:not(.other) { width: 14em; }
.two-currencies .num:not(.other) { width: 14em; }
`;

export default {
  init() {
    if (document.getElementById(STYLE_ID)) {
      return;
    }
    const style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = CSS;
    document.head.append(style);
  },
};
