/// `/dashboard.js`: fills the dashboard's sections from the JSON API every two seconds and
/// draws its charts as inline SVG. Each section refreshes on its own, so one the key may not
/// read (the audit log needs admin) says so without blanking the others.
enum DashboardScript {
    static let javascript = #"""
        const $ = id => document.getElementById(id);
        const fmt = n => Number(n).toLocaleString();
        const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
        const pct = x => x === null || x === undefined ? '–' : (x * 100).toFixed(2) + '%';
        const short = s => esc(String(s ?? '').slice(0, 12));
        const time = s => s ? esc(String(s).replace('T', ' ').replace(/\.\d+Z$/, 'Z')) : '–';
        const palette = ['#3b6fd8', '#d8763b', '#4a7', '#a4c', '#c44', '#888'];
        let tick = 0;

        // The API key: from the link `strata up` prints (#key=..., never sent to the server), then kept in this browser.
        const fromLink = new URLSearchParams(location.hash.slice(1)).get('key');
        if (fromLink) { localStorage.setItem('strata_key', fromLink); history.replaceState(null, '', location.pathname); }
        function saveKey(e) { e.preventDefault(); localStorage.setItem('strata_key', $('key-input').value.trim()); refresh(); }
        function headers(extra) { const key = localStorage.getItem('strata_key'); return Object.assign(key ? { 'Authorization': 'Bearer ' + key } : {}, extra || {}); }
        class Denied extends Error {}
        async function api(path) {
          const r = await fetch(path, { headers: headers() });
          if (r.status === 401 || r.status === 403) { $('key-form').style.display = ''; throw new Denied(r.status === 401 ? 'needs an API key' : 'this key lacks the role this section needs'); }
          return r;
        }
        // null where the server has no such route (no feature store, no serving); other failures throw.
        async function get(path) {
          const r = await api(path);
          if (r.status === 404) return null;
          if (!r.ok) throw new Error(`${path}: ${r.status}`);
          return r.json();
        }
        async function post(path, body) {
          const r = await fetch(path, { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body || {}) });
          const text = await r.text();
          let json = null; try { json = JSON.parse(text); } catch (e) {}
          if (!r.ok) throw new Error(json && json.error ? json.error.message : r.status + ' ' + text);
          return json;
        }
        const span = ms => ms % 86400000 === 0 ? ms / 86400000 + 'd' : ms % 3600000 === 0 ? ms / 3600000 + 'h' : ms % 60000 === 0 ? ms / 60000 + 'm' : ms / 1000 + 's';
        const windowText = w => !w ? '' : w === 'lifetime' ? 'lifetime' : span(w.length_ms) + (w.bucket_ms ? ' in ' + span(w.bucket_ms) + ' buckets' : ' exact');
        const table = (head, rows, empty) => '<tr>' + head.map(h => `<td${h.startsWith('#') ? ' class="n"' : ''}>${esc(h.replace(/^#/, ''))}</td>`).join('') + '</tr>' + (rows.join('') || `<tr><td colspan="${head.length}">${esc(empty || 'none')}</td></tr>`);

        // Charts: people would rather look than read.
        function lineChart(series, opts) {
          const w = opts.width || 640, h = opts.height || 120, pad = 28;
          const xs = series.flatMap(s => s.points.map(p => p[0])), ys = series.flatMap(s => s.points.map(p => p[1]));
          if (xs.length < 2) return `<p class="note">${esc(opts.empty || 'collecting data…')}</p>`;
          const x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(opts.minTop || 0, ...ys) || 1;
          const X = x => pad + (w - pad - 8) * (x - x0) / Math.max(1, x1 - x0), Y = y => h - 14 - (h - 24) * y / y1;
          const lines = series.map((s, i) => `<polyline fill="none" stroke="${s.color || palette[i % palette.length]}" stroke-width="1.8" points="${s.points.map(p => X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join(' ')}"/>`).join('');
          const legend = series.map((s, i) => `<tspan fill="${s.color || palette[i % palette.length]}">■ ${esc(s.name)} </tspan>`).join('');
          return `<svg class="chart" width="${w}" height="${h}" role="img" aria-label="${esc(opts.label || '')}">` +
            `<line x1="${pad}" x2="${w - 8}" y1="${h - 14}" y2="${h - 14}" stroke="#ccd"/><line x1="${pad}" x2="${pad}" y1="6" y2="${h - 14}" stroke="#ccd"/>` +
            `<text x="2" y="12">${esc(opts.format ? opts.format(y1) : y1.toFixed(2))}</text><text x="2" y="${h - 14}">0</text>` + lines +
            `<text x="${pad + 4}" y="${h - 2}">${legend}</text></svg>`;
        }
        function barChart(bars, opts) {
          const w = opts.width || 640, rowH = 16, h = bars.length * rowH + 4, labelW = opts.labelWidth || 160;
          const top = Math.max(opts.minTop || 0, ...bars.map(b => b.value), opts.threshold || 0) || 1;
          const X = v => labelW + (w - labelW - 60) * v / top;
          return `<svg class="chart" width="${w}" height="${h}" role="img" aria-label="${esc(opts.label || '')}">` + bars.map((b, i) =>
            `<text x="0" y="${i * rowH + 12}">${esc(b.label)}</text><rect x="${labelW}" y="${i * rowH + 3}" width="${Math.max(1, X(b.value) - labelW)}" height="10" fill="${b.color || '#3b6fd8'}"/>` +
            `<text x="${X(b.value) + 4}" y="${i * rowH + 12}">${esc(b.text ?? b.value.toFixed(3))}</text>`).join('') +
            (opts.threshold ? `<line x1="${X(opts.threshold)}" x2="${X(opts.threshold)}" y1="0" y2="${h}" stroke="#b3261e" stroke-dasharray="3,2"/>` : '') + '</svg>';
        }

        const ingestHistory = [];
        let deadLetters = -1;
        async function refreshLake() {
          const s = await get('/v1/lake');
          $('project').textContent = 'project ' + s.project;
          $('contract').textContent = 'contract ' + s.contract_version.slice(0, 12);
          const now = Date.now();
          ingestHistory.push({ t: now, accepted: s.ingest.accepted, rejected: s.ingest.rejected });
          if (ingestHistory.length > 150) ingestHistory.shift();
          const rates = ingestHistory.slice(1).map((p, i) => [p.t, Math.max(0, (p.accepted - ingestHistory[i].accepted) * 1000 / (p.t - ingestHistory[i].t))]);
          const rejects = ingestHistory.slice(1).map((p, i) => [p.t, Math.max(0, (p.rejected - ingestHistory[i].rejected) * 1000 / (p.t - ingestHistory[i].t))]);
          if (rates.length) $('rate').textContent = fmt(Math.round(rates[rates.length - 1][1]));
          $('rate-chart').innerHTML = lineChart([{ name: 'accepted/s', points: rates, color: '#3b6fd8' }, { name: 'rejected/s', points: rejects, color: '#c44' }],
            { width: 300, height: 90, label: 'events per second', format: v => fmt(Math.round(v)), empty: 'the rate chart starts after two refreshes' });
          $('accepted').textContent = fmt(s.ingest.accepted);
          $('rejected').textContent = fmt(s.ingest.rejected);
          $('duplicates').textContent = fmt(s.ingest.duplicates);
          $('by-type').innerHTML = Object.entries(s.ingest.accepted_by_type).sort().map(([t, n]) => `<tr><td>${esc(t)}</td><td class="n">${fmt(n)}</td></tr>`).join('');
          $('offsets').textContent = fmt(s.log.start_offset) + ' – ' + fmt(s.log.end_offset);
          $('segments').textContent = fmt(s.log.segments);
          $('dedupe').textContent = fmt(s.ingest.dedupe_ids);
          $('compacted').textContent = fmt(s.lake.compacted_through);
          $('files').textContent = fmt(s.lake.files);
          $('rows').textContent = fmt(s.lake.rows);
          $('bytes').textContent = fmt(s.lake.bytes);
          $('snapshots').textContent = fmt(s.snapshots);
          $('items').textContent = fmt(s.catalog.items);
          $('users').textContent = fmt(s.catalog.users);
          if (tick % 5 === 0) {
            const snaps = (await get('/v1/lake/snapshots')).snapshots;
            $('snapshot-list').innerHTML = table(['version', 'created', '#rows', '#files'],
              snaps.slice(-5).reverse().map(x => `<tr><td><code>${short(x.version)}</code></td><td>${time(x.created_at)}</td><td class="n">${fmt(x.rows)}</td><td class="n">${fmt(x.files)}</td></tr>`), 'no snapshot yet');
          }
          // Dead letters are read again only when more arrived (reading them is audited: they hold raw payloads).
          if (s.dead_letters !== deadLetters) {
            deadLetters = s.dead_letters;
            const d = await get('/v1/lake/dead-letters?limit=8&from=' + Math.max(0, s.dead_letters - 8));
            $('dead').innerHTML = d.dead_letters.reverse().map(l =>
              `<tr><td>${time(l.received_at)}</td><td class="bad">${esc(l.code)}</td><td>${esc(l.field)}</td><td>${esc(l.message)}</td></tr>`).join('') || '<tr><td>none</td></tr>';
          }
        }

        async function refreshFeatures() {
          const f = await get('/v1/features');
          if (!f) return;
          const defs = Object.fromEntries(f.definitions.map(d => [d.name, d]));
          $('features-note').textContent = `${f.features} features · ${fmt(f.users)} users · ${fmt(f.items)} items · applied through offset ${fmt(f.applied_through)} of ${fmt(f.log_end)} · snapshot at ${fmt(f.snapshot_offset)}`;
          $('features').innerHTML = table(['feature', 'entity', 'aggregation', 'window', '#newest event age', '#SLA'], f.freshness.map(x => {
            const d = defs[x.feature] || {}; const late = x.within_sla === false;
            return `<tr><td>${esc(x.feature)}</td><td>${esc(d.entity)}</td><td>${esc(d.aggregation)}</td><td>${esc(windowText(d.window))}</td>` +
              `<td class="n ${late ? 'bad' : ''}">${x.lag_seconds === undefined ? '–' : x.lag_seconds.toFixed(1) + ' s'}</td><td class="n">${x.freshness_sla_seconds === undefined ? '' : x.freshness_sla_seconds + ' s'}</td></tr>`; }));
          const k = f.skew;
          $('skew').innerHTML = k.samples === 0 ? 'skew: no live sample yet (every 10 minutes, or POST /v1/features/check-skew?mode=live)'
            : `skew: <span class="${k.mismatches ? 'bad' : ''}">${fmt(k.mismatches)} mismatches</span> in ${fmt(k.compared_values)} values over ${fmt(k.samples)} live samples (online vs point-in-time batch)`;
          // One user's live values, every tenth refresh (an audited read of personal data).
          if (f.recent_user && tick % 10 === 0) {
            const v = await get('/v1/features/user/' + encodeURIComponent(f.recent_user));
            $('sample-entity').textContent = 'user ' + f.recent_user;
            $('sample-values').textContent = JSON.stringify(v.values);
          }
        }

        let runsByID = {};
        async function refreshTraining() {
          const body = await get('/v1/training/runs?limit=50');
          if (!body) return;
          const runs = body.runs;
          runsByID = Object.fromEntries(runs.map(r => [r.id, r]));
          const seconds = r => r.finished_at ? ((Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000).toFixed(1) + ' s' : '–';
          const metric = r => r.metrics['ndcg@10'];
          $('runs').innerHTML = table(['run', 'model', 'experiment', 'status', 'started', '#duration', '#NDCG@10', '#precision@10', 'data version', 'by'], runs.slice(0, 10).map(r =>
            `<tr><td><code>${short(r.id)}</code></td><td>${esc(r.model)}</td><td>${esc(r.experiment)}</td><td class="${r.status === 'failed' ? 'bad' : r.status === 'running' ? 'warn' : ''}">${esc(r.status)}${r.error ? ': ' + esc(r.error) : ''}</td>` +
            `<td>${time(r.started_at)}</td><td class="n">${seconds(r)}</td><td class="n">${metric(r) === undefined ? '–' : metric(r).toFixed(4)}</td>` +
            `<td class="n">${r.metrics['precision@10'] === undefined ? '–' : r.metrics['precision@10'].toFixed(4)}</td><td><code>${short(r.data_version)}</code></td><td>${esc(r.principal)}</td></tr>`), 'no runs yet: strata train');
          const scored = runs.filter(r => r.status === 'finished' && metric(r) !== undefined).slice(0, 10).reverse();
          $('runs-chart').innerHTML = scored.length ? barChart(scored.map((r, i) => ({ label: `${r.model} ${r.id.slice(0, 8)}`, value: metric(r), color: palette[[...new Set(scored.map(x => x.model))].indexOf(r.model) % palette.length] })),
            { width: 640, label: 'NDCG@10 of recent runs', labelWidth: 170 }) : '';
        }

        // Model references (`name@3`) as path segments: the @ stays as it is.
        const pathRef = r => encodeURIComponent(r).replace(/%40/g, '@');
        async function modelAction(kind, reference, model) {
          const result = $('registry-result');
          try {
            if (kind === 'approve') await post(`/v1/models/${pathRef(reference)}/approve`, { reason: $('approve-reason').value || 'reviewed on the dashboard' });
            if (kind === 'promote') { if (!confirm(`Promote ${reference} to production?`)) return; await post(`/v1/models/${pathRef(reference)}/promote`); }
            if (kind === 'rollback') { if (!confirm(`Roll ${model} back to its previous production version?`)) return; await post(`/v1/models/${pathRef(model)}/rollback`); }
            result.className = 'good'; result.textContent = `${kind} ${reference}: done`;
          } catch (e) { result.className = 'bad'; result.textContent = `${kind} ${reference}: ${e.message}`; }
          refresh();
        }
        async function refreshRegistry() {
          const m = await get('/v1/models');
          if (!m) return;
          const action = v => v.stage === 'candidate' ? `<button data-action="approve" data-ref="${esc(v.reference)}" onclick="modelAction('approve', '${esc(v.reference)}')">approve</button>`
            : v.stage === 'approved' ? `<button data-action="promote" data-ref="${esc(v.reference)}" onclick="modelAction('promote', '${esc(v.reference)}')">promote</button>`
            : v.stage === 'production' ? `<button data-action="rollback" data-ref="${esc(v.reference)}" onclick="modelAction('rollback', '${esc(v.reference)}', '${esc(v.model)}')">roll back</button>` : '';
          const stageClass = s => s === 'rejected' ? 'bad' : s === 'production' ? 'good' : s === 'candidate' ? 'warn' : '';
          $('registry').innerHTML = table(['version', 'stage', 'gate', 'run', 'experiment', 'data version', 'created', ''], m.versions.slice(-12).reverse().map(v => {
            const run = runsByID[v.run] || {};
            return `<tr data-ref="${esc(v.reference)}" data-stage="${esc(v.stage)}"><td>${esc(v.reference)}</td><td class="${stageClass(v.stage)}">${esc(v.stage)}</td><td>${esc(v.gate ? v.gate.message : '')}</td>` +
              `<td><code>${short(v.run)}</code></td><td>${esc(run.experiment || '')}</td><td><code>${short(run.data_version)}</code></td><td>${time(v.created_at)}</td><td>${action(v)}</td></tr>`; }), 'no versions yet: strata train');
        }

        async function refreshEvaluation() {
          const e = await get('/v1/evaluation');
          if (!e) return;
          $('evaluation-note').textContent = `data version ${e.data_version.slice(0, 12)} · ${fmt(e.users)} users · ${fmt(e.items)} items · ${fmt(e.train_interactions)} train / ${fmt(e.test_interactions)} test interactions`;
          $('evaluation').innerHTML = table(['model', '#NDCG@10', '#precision@10', '#recall@10', '#hit rate@10', '#coverage', '#fit s'], e.models.map(m =>
            `<tr><td>${esc(m.model)} (${esc(m.algorithm)})</td><td class="n">${m['ndcg@10'].toFixed(4)}</td><td class="n">${m['precision@10'].toFixed(4)}</td><td class="n">${m['recall@10'].toFixed(4)}</td><td class="n">${m['hit_rate@10'].toFixed(4)}</td><td class="n">${m.coverage.toFixed(4)}</td><td class="n">${m.fit_seconds.toFixed(3)}</td></tr>`));
        }

        async function rollbackDeployment() {
          if (!confirm('Roll the default deployment back (stop a canary, or restore the previous production version)?')) return;
          try { const body = await post('/v1/deployments/default/rollback'); $('rollback-result').textContent = `${body.action} (${body.ms.toFixed(1)} ms)`; }
          catch (e) { $('rollback-result').textContent = e.message; }
          refresh();
        }
        async function refreshServing() {
          const d = await get('/v1/deployments/default');
          if (!d) return;
          $('deployment-note').textContent = `revision ${d.revision} · updated ${d.updated_at}` + (d.shadow ? ` · shadow ${d.shadow.reference}` : '');
          $('variants').innerHTML = table(['variant', 'serves', '#weight', '#cached users', '#requests', '#cache / live / trending', '#p99 ms', '#errors'], d.variants.map(v =>
            `<tr><td>${esc(v.name)}</td><td>${esc(v.serving || v.reference)}${v.error ? ' <span class="bad">' + esc(v.error) + '</span>' : ''}</td><td class="n">${v.weight}%</td>` +
            `<td class="n">${v.cache ? fmt(v.cache.users) : '–'}</td><td class="n">${fmt(v.stats.requests)}</td><td class="n">${fmt(v.stats.sources.cache)} / ${fmt(v.stats.sources.live)} / ${fmt(v.stats.sources.trending)}</td>` +
            `<td class="n">${v.stats.latency_ms.p99.toFixed(2)}</td><td class="n ${v.stats.errors ? 'bad' : ''}">${fmt(v.stats.errors)}</td></tr>`));
          const c = d.canary;
          $('canary').innerHTML = !c ? '' : `canary ${esc(c.status)} at step ${c.step + 1} of ${c.steps.length} (${c.steps.join('% → ')}%)` + (c.reason ? `: <span class="${c.status === 'rolled_back' ? 'bad' : ''}">${esc(c.reason)}</span>` : '');
          const e = await get('/v1/experiments/default');
          const top = Math.max(0.0001, ...e.variants.map(v => v.ctr_95[1]));
          // CTR with its 95% interval as a bar.
          const bar = v => `<svg width="220" height="14"><rect x="0" y="3" width="${220 * v.ctr / top}" height="8" fill="#4a7"/>` +
            `<line x1="${220 * v.ctr_95[0] / top}" x2="${220 * v.ctr_95[1] / top}" y1="7" y2="7" stroke="#222"/></svg>`;
          $('experiment').innerHTML = table(['variant', 'model', '#impressions', '#clicks', 'CTR (95% interval)', '', '#conversion', '#revenue / user', '#always-valid p (Holm)'], e.variants.map(v =>
            `<tr><td>${esc(v.variant)}</td><td>${esc(v.model)}</td><td class="n">${fmt(v.impressions)}</td><td class="n">${fmt(v.clicks)}</td>` +
            `<td>${pct(v.ctr)} [${(v.ctr_95[0] * 100).toFixed(2)}, ${(v.ctr_95[1] * 100).toFixed(2)}]</td><td>${bar(v)}</td>` +
            `<td class="n">${pct(v.conversion)}</td><td class="n">${v.revenue_per_user.toFixed(2)}</td><td class="n">${v.p_value === null ? 'control' : v.p_value.toFixed(4)}</td></tr>`));
          $('verdict').textContent = e.verdict;
        }

        async function refreshMonitoring() {
          const q = await get('/v1/monitoring/quality');
          if (!q) return;
          const deployment = q.deployments.find(d => d.deployment === 'default') || q.deployments[0];
          if (deployment) {
            const minute = s => Date.parse(s);
            $('ctr-chart').innerHTML = lineChart(deployment.variants.map(v => ({ name: `${v.variant} (${v.model || '–'})`, points: v.minutes.filter(m => m.impressions > 0).map(m => [minute(m.at), m.clicks / m.impressions]) })),
              { width: 640, height: 140, label: 'CTR per minute', format: pct, empty: 'no impressions in the last hour' });
            $('quality').innerHTML = table(['variant', 'model', `#CTR (last ${span(q.window_ms)})`, '#before', '#change', '#conversion', '#impressions', 'judged'], deployment.variants.map(v =>
              `<tr><td>${esc(v.variant)}</td><td>${esc(v.model)}</td><td class="n">${pct(v.window.ctr)}</td><td class="n">${pct(v.baseline.ctr)}</td>` +
              `<td class="n ${v.degraded ? 'bad' : ''}">${v.ctr_change === null ? '–' : (v.ctr_change * 100).toFixed(1) + '%'}</td><td class="n">${pct(v.window.conversion)}</td>` +
              `<td class="n">${fmt(v.window.impressions)}</td><td>${v.degraded ? '<span class="bad">degraded</span>' : v.judged ? 'ok' : `under ${fmt(q.min_impressions)} impressions`}</td></tr>`));
          }
          const drift = (await get('/v1/monitoring/drift') || { deployments: [] }).deployments;
          $('drift-note').textContent = drift.length ? '' : 'no deployment';
          $('drift').innerHTML = drift.map(r => {
            const measures = r.features.concat(r.scores ? [r.scores] : []);
            const head = `<p><b>${esc(r.deployment)}</b> · ${esc(r.model || 'no model')} · window ${span(r.window_ms)}` +
              (r.drifting.length ? ` · <span class="bad">drifting: ${esc(r.drifting.join(', '))}</span>` : measures.length ? ' · <span class="good">no drift</span>' : '') + (r.note ? ` · ${esc(r.note)}` : '') + '</p>';
            return head + (measures.length ? barChart(measures.map(m => {
              // Over the threshold but not drifting: too few samples in the window to judge yet.
              const unjudged = !m.drifting && m.psi > m.threshold;
              return { label: m.name, value: m.psi, text: `PSI ${m.psi.toFixed(3)} · KS ${m.ks.toFixed(3)} · n ${fmt(m.samples)}${unjudged ? ' (too few to judge)' : ''}`, color: m.drifting ? '#c44' : unjudged ? '#aaa' : '#4a7' };
            }),
              { width: 520, label: 'PSI per feature', threshold: measures[0].threshold, minTop: measures[0].threshold * 1.5, labelWidth: 130 }) : '');
          }).join('');
          const alerts = (await get('/v1/monitoring/alerts')).alerts;
          const stateClass = s => s === 'firing' ? 'bad' : s === 'pending' ? 'warn' : 'good';
          $('alerts').innerHTML = table(['alert', 'when', 'state', '#value', '#threshold', 'since', '#fired', 'last fired'], alerts.map(a =>
            `<tr data-alert="${esc(a.name)}" data-state="${esc(a.state)}"><td>${esc(a.name)}</td><td>${esc(a.when)}${a.feature ? ' ' + esc(a.feature) : ''}</td><td class="${stateClass(a.state)}">${esc(a.state)}</td>` +
            `<td class="n">${a.value === null ? '–' : a.value.toFixed(3)}</td><td class="n">${a.threshold}</td><td>${time(a.since)}</td><td class="n">${fmt(a.firings)}</td><td>${time(a.last_fired_at)}</td></tr>`),
            'no alert rules (alerts: in strata.yaml)');
        }

        // Reads (the dashboard's own among them) are hidden unless asked for: changes, alerts and denials stand out.
        async function refreshAudit() {
          const a = await get('/v1/audit?order=newest&limit=200');
          if (!a) return;
          const reads = $('audit-reads').checked;
          const shown = a.entries.filter(x => reads || x.outcome !== 'ok' || !/\.(read|download)$/.test(x.action)).slice(0, 12);
          $('audit').innerHTML = table(['#', 'at', 'who', 'action', 'target', 'outcome', 'detail'], shown.map(x =>
            `<tr><td class="n">${x.seq}</td><td>${time(x.at)}</td><td>${esc(x.principal)}</td><td>${esc(x.action)}</td><td><code>${esc(x.target)}</code></td>` +
            `<td class="${x.outcome === 'ok' ? '' : 'bad'}">${esc(x.outcome)}</td><td>${esc(x.detail)}</td></tr>`));
        }

        // Each loader and the sections it fills; a section is marked live once its loader succeeded.
        const sections = [[['ingestion', 'lake', 'dead-letters'], refreshLake], [['feature-store'], refreshFeatures], [['training'], refreshTraining],
          [['registry-section'], refreshRegistry], [['evaluation-section'], refreshEvaluation], [['serving'], refreshServing],
          [['quality-section', 'drift-section', 'alerts-section'], refreshMonitoring], [['audit-section'], refreshAudit]];
        let refreshing = false;
        async function refresh() {
          if (refreshing) return;
          refreshing = true;
          try { await refreshSections(); } finally { refreshing = false; }
        }
        async function refreshSections() {
          let reached = false, failure = '';
          for (const [ids, load] of sections) {
            const section = $(ids[0]);
            let note = section.querySelector('.section-error');
            try {
              await load();
              reached = true;
              if (note) note.remove();
              for (const id of ids) $(id).dataset.live = 'true';
            } catch (e) {
              if (e instanceof Denied) reached = true; else failure = String(e);
              if (!note) { note = document.createElement('div'); note.className = 'section-error'; section.insertBefore(note, section.children[1]); }
              note.textContent = e.message;
            }
          }
          $('error').textContent = reached ? '' : 'cannot reach the server: ' + failure;
          if (reached && !document.querySelector('.section-error')) $('key-form').style.display = 'none';
          tick++;
        }
        refresh();
        setInterval(refresh, 2000);
        """#
}
