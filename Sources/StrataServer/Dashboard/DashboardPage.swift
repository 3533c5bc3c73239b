/// The dashboard's HTML. It reads `/v1/lake`, `/v1/lake/dead-letters`, `/v1/features` and
/// `/v1/evaluation` every two seconds.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Strata</title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
          header { background: #1d2330; color: #fff; padding: 12px 24px; display: flex; gap: 16px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header span { opacity: .7; font-size: 12px; }
          main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
          section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
          h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #5b6475; margin: 0 0 8px; }
          .big { font-size: 28px; font-weight: 600; }
          table { width: 100%; border-collapse: collapse; }
          td { padding: 2px 0; vertical-align: top; }
          td.n { text-align: right; font-variant-numeric: tabular-nums; }
          code { font-size: 12px; word-break: break-all; }
          .bad { color: #b3261e; }
          #error { color: #b3261e; padding: 0 24px; }
        </style>
        </head>
        <body>
        <header><h1>Strata</h1><span id="project"></span><span id="contract"></span>
          <form id="key-form" style="margin-left:auto; display:none" onsubmit="saveKey(event)"><input id="key-input" size="40" placeholder="API key (strata_...)"> <button>use key</button></form></header>
        <div id="error"></div>
        <main>
          <section><h2>Ingestion</h2>
            <div class="big" id="accepted">–</div><div>events accepted since start · <span id="rate">–</span>/s</div>
            <table id="by-type"></table>
            <p><span class="bad" id="rejected">–</span> rejected · <span id="duplicates">–</span> duplicate retries</p>
          </section>
          <section><h2>Event log</h2>
            <table>
              <tr><td>offsets</td><td class="n" id="offsets">–</td></tr>
              <tr><td>segments</td><td class="n" id="segments">–</td></tr>
              <tr><td>event ids remembered</td><td class="n" id="dedupe">–</td></tr>
            </table>
          </section>
          <section><h2>Lake (Parquet)</h2>
            <table>
              <tr><td>compacted through offset</td><td class="n" id="compacted">–</td></tr>
              <tr><td>files</td><td class="n" id="files">–</td></tr>
              <tr><td>rows</td><td class="n" id="rows">–</td></tr>
              <tr><td>bytes</td><td class="n" id="bytes">–</td></tr>
              <tr><td>snapshots</td><td class="n" id="snapshots">–</td></tr>
            </table>
            <p>latest data version: <code id="latest">–</code></p>
          </section>
          <section><h2>Catalog</h2>
            <table>
              <tr><td>items</td><td class="n" id="items">–</td></tr>
              <tr><td>users</td><td class="n" id="users">–</td></tr>
            </table>
          </section>
          <section style="grid-column: 1 / -1"><h2>Feature store (online, updated from the stream)</h2>
            <div id="features-note">no feature store</div>
            <table id="features"></table>
            <p id="skew"></p>
            <p>live values of <code id="sample-entity">–</code>: <code id="sample-values">–</code></p>
          </section>
          <section style="grid-column: 1 / -1"><h2>Models (offline evaluation on the latest snapshot)</h2>
            <div id="evaluation-note">no evaluation yet (the demo runs one at start; `strata evaluate` from the command line)</div>
            <table id="evaluation"></table>
          </section>
          <section style="grid-column: 1 / -1"><h2>Model registry (newest versions)</h2>
            <table id="registry"></table>
          </section>
          <section style="grid-column: 1 / -1"><h2>Serving: the default deployment and its A/B test</h2>
            <div id="deployment-note">no deployment yet</div>
            <table id="variants"></table>
            <p id="canary"></p>
            <table id="experiment"></table>
            <p id="verdict"></p>
            <p><button id="rollback" onclick="rollback()">Roll back</button> <span id="rollback-result"></span></p>
          </section>
          <section style="grid-column: 1 / -1"><h2>Dead letters (latest)</h2>
            <table id="dead"></table>
          </section>
        </main>
        <script>
        const fmt = n => Number(n).toLocaleString();
        const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
        let last = null;
        // The API key: from the link `strata up` prints (#key=..., never sent to the server), then kept in this browser.
        const fromLink = new URLSearchParams(location.hash.slice(1)).get('key');
        if (fromLink) { localStorage.setItem('strata_key', fromLink); history.replaceState(null, '', location.pathname); }
        function saveKey(e) { e.preventDefault(); localStorage.setItem('strata_key', document.getElementById('key-input').value.trim()); refresh(); }
        async function api(path) {
          const key = localStorage.getItem('strata_key');
          const r = await fetch(path, { headers: key ? { 'Authorization': 'Bearer ' + key } : {} });
          if (r.status === 401 || r.status === 403) { document.getElementById('key-form').style.display = ''; throw new Error('this page needs an API key with the scientist and serve roles (strata keys create)'); }
          return r;
        }
        const span = ms => ms % 86400000 === 0 ? ms / 86400000 + 'd' : ms % 3600000 === 0 ? ms / 3600000 + 'h' : ms % 60000 === 0 ? ms / 60000 + 'm' : ms / 1000 + 's';
        const windowText = w => !w ? '' : w === 'lifetime' ? 'lifetime' : span(w.length_ms) + (w.bucket_ms ? ' in ' + span(w.bucket_ms) + ' buckets' : ' exact');
        async function rollback() {
          if (!confirm('Roll the default deployment back (stop a canary, or restore the previous production version)?')) return;
          const key = localStorage.getItem('strata_key');
          const r = await fetch('/v1/deployments/default/rollback', { method: 'POST', headers: key ? { 'Authorization': 'Bearer ' + key } : {} });
          const body = await r.json();
          document.getElementById('rollback-result').textContent = r.ok ? `${body.action} (${body.ms.toFixed(1)} ms)` : (body.error ? body.error.message : r.status);
          refresh();
        }
        async function refreshServing() {
          const dr = await api('/v1/deployments/default');
          if (!dr.ok) return;
          const d = await dr.json();
          document.getElementById('deployment-note').textContent = `revision ${d.revision} · updated ${d.updated_at}` + (d.shadow ? ` · shadow ${d.shadow.reference}` : '');
          document.getElementById('variants').innerHTML = '<tr><td>variant</td><td>serves</td><td class="n">weight</td><td class="n">cached users</td><td class="n">requests</td><td class="n">cache / live / trending</td><td class="n">p99 ms</td><td class="n">errors</td></tr>' +
            d.variants.map(v => `<tr><td>${esc(v.name)}</td><td>${esc(v.serving || v.reference)}${v.error ? ' <span class="bad">' + esc(v.error) + '</span>' : ''}</td><td class="n">${v.weight}%</td>` +
              `<td class="n">${v.cache ? fmt(v.cache.users) : '–'}</td><td class="n">${fmt(v.stats.requests)}</td><td class="n">${fmt(v.stats.sources.cache)} / ${fmt(v.stats.sources.live)} / ${fmt(v.stats.sources.trending)}</td>` +
              `<td class="n">${v.stats.latency_ms.p99.toFixed(2)}</td><td class="n ${v.stats.errors ? 'bad' : ''}">${fmt(v.stats.errors)}</td></tr>`).join('');
          const c = d.canary;
          document.getElementById('canary').innerHTML = !c ? '' : `canary ${esc(c.status)} at step ${c.step + 1} of ${c.steps.length} (${c.steps.join('% → ')}%)` + (c.reason ? `: <span class="${c.status === 'rolled_back' ? 'bad' : ''}">${esc(c.reason)}</span>` : '');
          const e = await (await api('/v1/experiments/default')).json();
          const top = Math.max(0.0001, ...e.variants.map(v => v.ctr_95[1]));
          // CTR with its 95% interval as a bar: people would rather look than read.
          const bar = v => `<svg width="220" height="14"><rect x="0" y="3" width="${220 * v.ctr / top}" height="8" fill="#4a7"/>` +
            `<line x1="${220 * v.ctr_95[0] / top}" x2="${220 * v.ctr_95[1] / top}" y1="7" y2="7" stroke="#222"/></svg>`;
          document.getElementById('experiment').innerHTML = '<tr><td>variant</td><td>model</td><td class="n">impressions</td><td class="n">clicks</td><td>CTR (95% interval)</td><td></td><td class="n">conversion</td><td class="n">revenue / user</td><td class="n">p-value</td></tr>' +
            e.variants.map(v => `<tr><td>${esc(v.variant)}</td><td>${esc(v.model)}</td><td class="n">${fmt(v.impressions)}</td><td class="n">${fmt(v.clicks)}</td>` +
              `<td>${(v.ctr * 100).toFixed(2)}% [${(v.ctr_95[0] * 100).toFixed(2)}, ${(v.ctr_95[1] * 100).toFixed(2)}]</td><td>${bar(v)}</td>` +
              `<td class="n">${(v.conversion * 100).toFixed(2)}%</td><td class="n">${v.revenue_per_user.toFixed(2)}</td><td class="n">${v.p_value === null ? 'control' : v.p_value.toFixed(4)}</td></tr>`).join('');
          document.getElementById('verdict').textContent = e.verdict;
        }
        async function refresh() {
          try {
            const s = await (await api('/v1/lake')).json();
            document.getElementById('project').textContent = 'project ' + s.project;
            document.getElementById('contract').textContent = 'contract ' + s.contract_version.slice(0, 12);
            const now = Date.now();
            if (last) document.getElementById('rate').textContent = fmt(Math.round((s.ingest.accepted - last.n) * 1000 / (now - last.t)));
            last = { n: s.ingest.accepted, t: now };
            document.getElementById('accepted').textContent = fmt(s.ingest.accepted);
            document.getElementById('rejected').textContent = fmt(s.ingest.rejected);
            document.getElementById('duplicates').textContent = fmt(s.ingest.duplicates);
            document.getElementById('by-type').innerHTML = Object.entries(s.ingest.accepted_by_type).sort()
              .map(([t, n]) => `<tr><td>${esc(t)}</td><td class="n">${fmt(n)}</td></tr>`).join('');
            document.getElementById('offsets').textContent = fmt(s.log.start_offset) + ' – ' + fmt(s.log.end_offset);
            document.getElementById('segments').textContent = fmt(s.log.segments);
            document.getElementById('dedupe').textContent = fmt(s.ingest.dedupe_ids);
            document.getElementById('compacted').textContent = fmt(s.lake.compacted_through);
            document.getElementById('files').textContent = fmt(s.lake.files);
            document.getElementById('rows').textContent = fmt(s.lake.rows);
            document.getElementById('bytes').textContent = fmt(s.lake.bytes);
            document.getElementById('snapshots').textContent = fmt(s.snapshots);
            document.getElementById('latest').textContent = s.latest_snapshot ? s.latest_snapshot.version : 'none yet';
            document.getElementById('items').textContent = fmt(s.catalog.items);
            document.getElementById('users').textContent = fmt(s.catalog.users);
            const from = Math.max(0, s.dead_letters - 8);
            const d = await (await api('/v1/lake/dead-letters?limit=8&from=' + from)).json();
            document.getElementById('dead').innerHTML = d.dead_letters.reverse().map(l =>
              `<tr><td>${esc(l.received_at)}</td><td class="bad">${esc(l.code)}</td><td>${esc(l.field)}</td><td>${esc(l.message)}</td></tr>`).join('')
              || '<tr><td>none</td></tr>';
            const fs = await api('/v1/features');
            if (fs.ok) {
              const f = await fs.json();
              const defs = Object.fromEntries(f.definitions.map(d => [d.name, d]));
              document.getElementById('features-note').textContent =
                `${f.features} features · ${fmt(f.users)} users · ${fmt(f.items)} items · applied through offset ${fmt(f.applied_through)} of ${fmt(f.log_end)} · snapshot at ${fmt(f.snapshot_offset)}`;
              document.getElementById('features').innerHTML = '<tr><td>feature</td><td>entity</td><td>aggregation</td><td>window</td><td class="n">newest event age</td><td class="n">SLA</td></tr>' +
                f.freshness.map(x => { const d = defs[x.feature] || {}; const late = x.within_sla === false;
                  return `<tr><td>${esc(x.feature)}</td><td>${esc(d.entity)}</td><td>${esc(d.aggregation)}</td><td>${esc(windowText(d.window))}</td>` +
                    `<td class="n ${late ? 'bad' : ''}">${x.lag_seconds === undefined ? '–' : x.lag_seconds.toFixed(1) + ' s'}</td><td class="n">${x.freshness_sla_seconds === undefined ? '' : x.freshness_sla_seconds + ' s'}</td></tr>`; }).join('');
              const k = f.skew;
              document.getElementById('skew').innerHTML = k.samples === 0 ? 'skew: no live sample yet (every 10 minutes, or POST /v1/features/check-skew?mode=live)'
                : `skew: <span class="${k.mismatches ? 'bad' : ''}">${fmt(k.mismatches)} mismatches</span> in ${fmt(k.compared_values)} values over ${fmt(k.samples)} live samples (online vs point-in-time batch)`;
              const entity = f.recent_user;
              if (entity) {
                const v = await (await api('/v1/features/user/' + encodeURIComponent(entity))).json();
                document.getElementById('sample-entity').textContent = 'user ' + entity;
                document.getElementById('sample-values').textContent = JSON.stringify(v.values);
              }
            }
            const ev = await api('/v1/evaluation');
            if (ev.ok) {
              const e = await ev.json();
              document.getElementById('evaluation-note').textContent =
                `data version ${e.data_version.slice(0, 12)} · ${fmt(e.users)} users · ${fmt(e.items)} items · ${fmt(e.train_interactions)} train / ${fmt(e.test_interactions)} test interactions`;
              document.getElementById('evaluation').innerHTML = '<tr><td>model</td><td class="n">NDCG@10</td><td class="n">precision@10</td><td class="n">recall@10</td><td class="n">hit rate@10</td><td class="n">coverage</td><td class="n">fit s</td></tr>' +
                e.models.map(m => `<tr><td>${esc(m.model)} (${esc(m.algorithm)})</td><td class="n">${m['ndcg@10'].toFixed(4)}</td><td class="n">${m['precision@10'].toFixed(4)}</td><td class="n">${m['recall@10'].toFixed(4)}</td><td class="n">${m['hit_rate@10'].toFixed(4)}</td><td class="n">${m.coverage.toFixed(4)}</td><td class="n">${m.fit_seconds.toFixed(3)}</td></tr>`).join('');
            }
            const mv = await api('/v1/models');
            if (mv.ok) {
              const m = await mv.json();
              document.getElementById('registry').innerHTML = '<tr><td>version</td><td>stage</td><td>run</td><td>gate</td></tr>' +
                m.versions.slice(-12).reverse().map(v => `<tr><td>${esc(v.reference)}</td><td class="${v.stage === 'rejected' ? 'bad' : ''}">${esc(v.stage)}</td><td><code>${esc(v.run)}</code></td><td>${esc(v.gate ? v.gate.message : '')}</td></tr>`).join('')
                || '<tr><td>no versions yet: strata train</td></tr>';
            }
            await refreshServing();
            document.getElementById('key-form').style.display = 'none';
            document.getElementById('error').textContent = '';
          } catch (e) {
            document.getElementById('error').textContent = 'cannot reach the server: ' + e;
          }
        }
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>
        """#
}
