// The Cell's reports (officers): alerts and cases per country and month, time to acknowledge,
// escalation steps reached and outcomes, for a date range; small counts arrive suppressed
// ("<5") from the server and are shown as such (a chart draws them as gaps, never as a guess).
// Charts: Chart.js (vendor/chart.js, a classic script loaded only here; it draws on a canvas
// and sets sizes through the DOM, so the strict CSP holds).  Route #/reports.

import { api } from "../api.js";
import { clear, field, formValues, h } from "../dom.js";
import { t } from "../i18n.js";
import { busy, countryName, errorBox, heading } from "./common.js";

let chartPromise = null;
function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  chartPromise ||= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL("../vendor/chart.js/chart.umd.min.js", import.meta.url).href;
    script.onload = () => resolve(window.Chart);
    script.onerror = () => { chartPromise = null; reject(new Error("chart.js failed to load")); };
    document.head.append(script);
  });
  return chartPromise;
}

const day = (d) => d.toISOString().slice(0, 10);
const num = (v) => (typeof v === "number" ? v : null); // "<5" is a gap in a chart

export function render(main) {
  const root = h("section", { class: "reports" });
  main.append(root);
  const charts = [];
  const err = errorBox();
  const out = h("div", { id: "report-body" });
  const today = new Date();
  const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 11, 1));
  const button = h("button", { type: "submit" }, t("reports.show"));
  const csv = h("button", { type: "button", class: "secondary", id: "report-csv" }, t("reports.csv"));
  const form = h("form", { class: "form row", id: "report-form" },
    field(t("reports.from"), h("input", { name: "from", type: "date", value: day(from), required: true })),
    field(t("reports.to"), h("input", { name: "to", type: "date", value: day(today), required: true })),
    button, csv);

  const query = () => new URLSearchParams(formValues(form)).toString();

  async function load() {
    err.show(null);
    try {
      const [report, Chart] = await Promise.all([api(`/api/reports/summary?${query()}`), loadChart()]);
      draw(report, Chart);
    } catch (e) {
      err.show(e);
    }
  }

  function table(id, caption, data, months) {
    const rows = Object.entries(data.rows);
    return h("table", { class: "report-table", id },
      h("caption", null, caption),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, t("reports.country")),
        months.map((m) => h("th", { scope: "col" }, m)), h("th", { scope: "col" }, t("reports.total")))),
      h("tbody", null, rows.map(([country, cells]) => h("tr", null,
        h("th", { scope: "row" }, country === "unknown" ? t("reports.unknown") : countryName(country)),
        months.map((m) => h("td", { class: typeof cells[m] === "string" ? "suppressed" : null }, String(cells[m]))),
        h("td", null, String(cells.total)))),
      h("tr", { class: "total" }, h("th", { scope: "row" }, t("reports.total")),
        months.map((m) => h("td", null, String(data.totals[m]))), h("td", null, String(data.totals.total)))));
  }

  function chart(Chart, id, label, labels, datasets, type = "bar") {
    const canvas = h("canvas", { id, role: "img", "aria-label": label });
    const box = h("figure", { class: "chart" }, h("figcaption", null, label), h("div", { class: "chart-box" }, canvas));
    out.append(box);
    charts.push(new Chart(canvas, { type, data: { labels, datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true } } } }));
  }

  function draw(report, Chart) {
    for (const c of charts.splice(0)) c.destroy();
    clear(out);
    const months = report.months;
    out.append(h("p", { class: "small muted" }, t("reports.suppressed", { k: report.k })));
    chart(Chart, "chart-alerts", t("reports.alertsPerMonth"), months, [
      { label: t("reports.alerts"), data: months.map((m) => num(report.alerts.totals[m])), backgroundColor: "#b00020" },
      { label: t("reports.cases"), data: months.map((m) => num(report.cases.totals[m])), backgroundColor: "#0b4f8a" }]);
    const tta = report.time_to_acknowledge_secs.by_month;
    chart(Chart, "chart-ack", t("reports.ackTime"), months, [
      { label: "p50", data: months.map((m) => tta[m].p50), borderColor: "#0b4f8a", backgroundColor: "#0b4f8a" },
      { label: "p90", data: months.map((m) => tta[m].p90), borderColor: "#8a4b00", backgroundColor: "#8a4b00" }],
    "line");
    out.append(table("report-alerts", t("reports.alertsByCountry"), report.alerts, months),
      table("report-cases", t("reports.casesByCountry"), report.cases, months));
    const overall = report.time_to_acknowledge_secs.overall;
    out.append(h("p", { id: "report-ack" }, t("reports.ackOverall", {
      n: overall.n, p50: overall.p50 ?? "–", p90: overall.p90 ?? "–" })));
    for (const [id, key, prefix] of [["report-escalations", "escalations", "reports.step."],
      ["report-outcomes", "outcomes", "case.outcome."]]) {
      out.append(h("h2", null, t(`reports.${key}`)), h("dl", { class: "facts", id },
        Object.entries(report[key]).map(([k, v]) => [h("dt", null, k === "total" ? t("reports.total") : t(`${prefix}${k}`)),
          h("dd", { class: typeof v === "string" ? "suppressed" : null }, String(v))])));
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); busy(button, load); });
  csv.addEventListener("click", () => busy(csv, async () => {
    err.show(null);
    try {
      const text = await api(`/api/reports/summary.csv?${query()}`);
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const link = h("a", { href: url, download: `hubchat-report-${formValues(form).from}.csv`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
    } catch (e) {
      err.show(e);
    }
  }));
  root.append(heading(t("reports.title")), form, err.el, out);
  load();
  return () => { for (const c of charts.splice(0)) c.destroy(); };
}
