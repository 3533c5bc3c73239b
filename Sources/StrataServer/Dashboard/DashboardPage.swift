/// The dashboard's HTML: one section per layer, filled by `/dashboard.js` from the JSON API
/// (every two seconds). Self-contained: no font, script or style is fetched from elsewhere.
/// Each section sets `data-live` once it shows data from the server (the browser test waits
/// for it).
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Strata</title>
        <link rel="icon" href="data:,">
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
          header { background: #1d2330; color: #fff; padding: 12px 24px; display: flex; gap: 16px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header span { opacity: .7; font-size: 12px; }
          main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
          section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); overflow-x: auto; }
          section.wide { grid-column: 1 / -1; }
          section.half { grid-column: span 2; }
          @media (max-width: 720px) { section.half { grid-column: auto; } }
          h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #5b6475; margin: 0 0 8px; }
          .big { font-size: 28px; font-weight: 600; }
          table { width: 100%; border-collapse: collapse; }
          td { padding: 2px 6px 2px 0; vertical-align: top; }
          tr:first-child td { color: #5b6475; font-size: 12px; }
          td.n { text-align: right; font-variant-numeric: tabular-nums; }
          code { font-size: 12px; word-break: break-all; }
          .bad { color: #b3261e; } .good { color: #1b7f3b; } .warn { color: #a15c00; }
          .note { color: #5b6475; font-size: 12px; }
          .section-error { color: #b3261e; font-size: 12px; }
          button { font-size: 12px; }
          svg text { font-size: 10px; fill: #5b6475; }
          #error { color: #b3261e; padding: 0 24px; }
        </style>
        </head>
        <body>
        <header><h1>Strata</h1><span id="project"></span><span id="contract"></span>
          <form id="key-form" style="margin-left:auto; display:none" onsubmit="saveKey(event)"><input id="key-input" size="40" placeholder="API key (strata_...)"> <button>use key</button></form></header>
        <div id="error"></div>
        <main>
          <section id="ingestion"><h2>Ingestion</h2>
            <div class="big" id="accepted">–</div><div>events accepted since start · <span id="rate">–</span>/s</div>
            <div id="rate-chart"></div>
            <table id="by-type"></table>
            <p><span class="bad" id="rejected">–</span> rejected · <span id="duplicates">–</span> duplicate retries</p>
          </section>
          <section id="lake"><h2>Event log and lake (Parquet)</h2>
            <table>
              <tr><td>log offsets</td><td class="n" id="offsets">–</td></tr>
              <tr><td>segments · event ids remembered</td><td class="n"><span id="segments">–</span> · <span id="dedupe">–</span></td></tr>
              <tr><td>compacted through offset</td><td class="n" id="compacted">–</td></tr>
              <tr><td>files · rows · bytes</td><td class="n"><span id="files">–</span> · <span id="rows">–</span> · <span id="bytes">–</span></td></tr>
              <tr><td>catalog items · users</td><td class="n"><span id="items">–</span> · <span id="users">–</span></td></tr>
            </table>
            <h2 style="margin-top:8px">Snapshots (<span id="snapshots">–</span>)</h2>
            <table id="snapshot-list"></table>
          </section>
          <section id="feature-store" class="wide"><h2>Feature store (online, updated from the stream)</h2>
            <div id="features-note">no feature store</div>
            <table id="features"></table>
            <p id="skew"></p>
            <p>live values of <code id="sample-entity">–</code>: <code id="sample-values">–</code></p>
          </section>
          <section id="training" class="wide"><h2>Training runs</h2>
            <div id="runs-chart"></div>
            <table id="runs"></table>
          </section>
          <section id="registry-section" class="wide"><h2>Model registry: lineage and the approval gate</h2>
            <p class="note">Approving, promoting and rolling back need a key with the approver role; each is audited.
              Reason for approvals: <input id="approve-reason" size="40" value="reviewed on the dashboard"> <span id="registry-result"></span></p>
            <table id="registry"></table>
          </section>
          <section id="evaluation-section" class="wide"><h2>Offline evaluation on the latest snapshot</h2>
            <div id="evaluation-note">no evaluation yet (the demo runs one at start; `strata evaluate` from the command line)</div>
            <table id="evaluation"></table>
          </section>
          <section id="serving" class="wide"><h2>Serving: the default deployment and its A/B test</h2>
            <div id="deployment-note">no deployment yet</div>
            <table id="variants"></table>
            <p id="canary"></p>
            <table id="experiment"></table>
            <p id="verdict"></p>
            <p><button id="rollback" onclick="rollbackDeployment()">Roll back the deployment</button> <span id="rollback-result"></span></p>
          </section>
          <section id="quality-section" class="wide"><h2>Prediction quality: CTR per variant, minute by minute (last hour)</h2>
            <div id="ctr-chart"></div>
            <table id="quality"></table>
          </section>
          <section id="drift-section" class="half"><h2>Drift against the training baseline</h2>
            <div id="drift-note">no drift report yet</div>
            <div id="drift"></div>
          </section>
          <section id="alerts-section" class="half"><h2>Alerts</h2>
            <table id="alerts"></table>
          </section>
          <section id="audit-section" class="wide"><h2>Audit log (newest)</h2>
            <p class="note"><label><input type="checkbox" id="audit-reads" onchange="refresh()"> include reads</label> · the full log: <code>strata audit ls</code>, <code>strata audit verify</code></p>
            <table id="audit"></table>
          </section>
          <section id="dead-letters" class="wide"><h2>Dead letters (latest)</h2>
            <table id="dead"></table>
          </section>
        </main>
        <script src="/dashboard.js"></script>
        </body>
        </html>
        """#
}
