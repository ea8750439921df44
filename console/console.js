// The ffaas web console: plain browser JavaScript against the public API (docs/CONSOLE.md).
// The API URL and key live in this browser's localStorage; nothing else is stored.

const $ = (sel) => document.querySelector(sel);
const state = {
  base: localStorage.getItem('ffaas.base') || '',
  key: localStorage.getItem('ffaas.key') || '',
  selected: null,
  shownOutputs: '',
};

// The server's origin (and stage): what the API field says, else the page's own origin.
const serverBase = () => (state.base || location.origin).replace(/\/+$/, '');

function apiUrl(path) {
  return `${serverBase()}/api/v1${path}`;
}

async function api(method, path, body, url = apiUrl(path)) {
  const headers = { accept: 'application/json' };
  if (state.key) headers['x-api-key'] = state.key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(json?.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return json;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

// ---- tabs ----
for (const button of document.querySelectorAll('nav button')) {
  button.addEventListener('click', () => {
    for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b === button);
    for (const s of document.querySelectorAll('main section')) s.hidden = s.id !== `tab-${button.dataset.tab}`;
    if (button.dataset.tab === 'files') refreshFiles();
    if (button.dataset.tab === 'webhooks') refreshWebhooks();
    if (button.dataset.tab === 'keys') refreshKeys();
  });
}

// ---- connection ----
$('#base-url').value = state.base;
$('#api-key').value = state.key;
$('#connect').addEventListener('submit', async (e) => {
  e.preventDefault();
  state.base = $('#base-url').value.trim();
  state.key = $('#api-key').value.trim();
  localStorage.setItem('ffaas.base', state.base);
  localStorage.setItem('ffaas.key', state.key);
  await checkConnection();
  refreshCommands();
});

async function checkConnection() {
  try {
    const health = await api('GET', '/health');
    $('#conn-status').textContent = `connected (v${health.version})`;
  } catch (err) {
    $('#conn-status').textContent = `cannot reach the API: ${err.message}`;
  }
}

// ---- commands ----
$('#submit').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const out = await api('POST', '/run-ffmpeg-command', {
      ffmpeg_command: $('#ffmpeg-command').value,
      input_files: JSON.parse($('#input-files').value || '{}'),
      output_files: JSON.parse($('#output-files').value || '{}'),
    });
    $('#submit-status').textContent = `submitted ${out.command_id}`;
    state.selected = out.command_id;
    refreshCommands();
  } catch (err) {
    $('#submit-status').textContent = err.message;
  }
});

async function refreshCommands() {
  if (!state.key) return;
  let page;
  try {
    page = await api('GET', '/commands?limit=20');
  } catch (err) {
    $('#conn-status').textContent = err.message;
    return;
  }
  const body = $('#commands tbody');
  body.replaceChildren(
    ...page.commands.map((c) => {
      const pct = c.status === 'SUCCESS' ? 100 : (c.progress?.percent ?? 0);
      return el(
        'tr',
        {
          class: 'clickable',
          'data-id': c.command_id,
          onclick: () => {
            state.selected = c.command_id;
            showDetail(c);
          },
        },
        el('td', {}, el('code', {}, c.command_id.slice(0, 8))),
        el('td', {}, new Date(c.created_at).toLocaleTimeString()),
        el('td', { class: `status ${c.status}` }, c.status + (c.error_status ? ` (${c.error_status})` : '')),
        el(
          'td',
          {},
          el('progress', { max: '100', value: String(Math.round(pct)) }),
          c.progress?.speed ? ` ${c.progress.speed}x` : '',
        ),
        el('td', {}, Object.values(c.original_request.output_files).join(', ')),
      );
    }),
  );
  const selected = page.commands.find((c) => c.command_id === state.selected);
  if (selected) showDetail(selected);
}

function showDetail(c) {
  $('#detail').hidden = false;
  $('#detail-id').textContent = c.command_id;
  $('#detail-status').textContent = c.status;
  $('#detail-status').className = c.status;
  $('#detail-error').hidden = !c.error_message;
  $('#detail-error').textContent = c.error_message || '';
  // Players are rebuilt only when the outputs change (URLs are re-signed on every poll).
  const signature = `${c.command_id}:${c.status}:${Object.keys(c.output_files).join(',')}`;
  if (signature === state.shownOutputs) return;
  state.shownOutputs = signature;
  $('#outputs').replaceChildren(
    ...Object.entries(c.output_files).map(([alias, f]) =>
      el(
        'figure',
        { 'data-alias': alias },
        player(f),
        el(
          'figcaption',
          {},
          `${alias}: ${f.filename} `,
          f.storage_url ? el('a', { href: f.storage_url, download: f.filename }, 'download') : '',
        ),
      ),
    ),
  );
}

function player(f) {
  if (!f.storage_url) return el('span', {}, f.status);
  const isPlaylist = /\.m3u8$/i.test(f.filename);
  if (f.file_type === 'image') return el('img', { src: f.storage_url, alt: f.filename });
  if (f.file_type === 'audio') return el('audio', { src: f.storage_url, controls: '', preload: 'auto' });
  if (f.file_type === 'video' || isPlaylist) {
    const video = el('video', { controls: '', muted: '', playsinline: '', preload: 'auto' });
    video.muted = true;
    // hls.js wherever Media Source Extensions exist: Chromium answers "maybe" to the HLS type
    // yet may not play it; native HLS only where hls.js cannot run (iOS Safari).
    if (isPlaylist && window.Hls?.isSupported()) {
      const hls = new window.Hls();
      hls.loadSource(f.storage_url);
      hls.attachMedia(video);
    } else video.src = f.storage_url;
    return video;
  }
  return el('a', { href: f.storage_url }, f.filename);
}

// ---- files ----
async function refreshFiles() {
  try {
    const page = await api('GET', '/files?limit=50');
    const files = Array.isArray(page) ? page : page.files;
    $('#files tbody').replaceChildren(
      ...files.map((f) =>
        el(
          'tr',
          {},
          el('td', {}, el('code', {}, f.file_id)),
          el('td', {}, f.filename),
          el('td', { class: f.status }, f.status),
          el('td', {}, f.size_mbytes ?? ''),
          el(
            'td',
            {},
            el(
              'button',
              {
                onclick: async () => {
                  await api('DELETE', `/files/${f.file_id}`);
                  refreshFiles();
                },
              },
              'delete',
            ),
          ),
        ),
      ),
    );
  } catch (err) {
    $('#upload-status').textContent = `files: ${err.message}`;
  }
}

$('#upload').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('#upload-file').files[0];
  if (!file) return;
  try {
    $('#upload-status').textContent = `uploading ${file.name} …`;
    const { file_id, upload_url } = await api('POST', '/files/upload-url', { filename: file.name });
    const put = await fetch(upload_url, { method: 'PUT', body: file });
    if (!put.ok) throw new Error(`upload answered ${put.status}`);
    $('#upload-status').textContent = `uploaded ${file_id}`;
    refreshFiles();
  } catch (err) {
    $('#upload-status').textContent = err.message;
  }
});

// ---- webhooks ----
async function refreshWebhooks() {
  try {
    const config = await api('GET', '/webhook-config');
    $('#webhook-config').textContent = config.configured
      ? `${config.url} (${config.is_active ? 'active' : 'disabled'})`
      : 'No webhook set.';
    // The deliveries of the newest commands, then the account's failing ones (retrying or given up).
    const page = await api('GET', '/commands?limit=10');
    const recent = await Promise.all(
      page.commands.map((c) =>
        api('GET', `/commands/${c.command_id}/webhooks`)
          .then((w) => w.webhooks ?? [])
          .catch(() => []),
      ),
    );
    const failing = await api('GET', '/webhook-deliveries')
      .then((d) => d.deliveries ?? [])
      .catch(() => []);
    const seen = new Set();
    const rows = [...failing, ...recent.flat()].filter((d) => {
      const id = `${d.command_id}:${d.webhook_id}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    $('#webhook-deliveries tbody').replaceChildren(
      ...rows.map((d) =>
        el(
          'tr',
          { 'data-command': d.command_id },
          el('td', {}, el('code', {}, d.command_id.slice(0, 8))),
          el('td', {}, d.event_type),
          el('td', { class: d.status === 'DELIVERED' ? 'SUCCESS' : d.status === 'FAILED' ? 'FAILED' : '' }, d.status),
          el('td', {}, d.attempts),
          el('td', {}, d.last_status_code ?? ''),
          el('td', {}, d.last_error ?? ''),
          el('td', {}, d.delivered_at ? new Date(d.delivered_at).toLocaleTimeString() : ''),
        ),
      ),
    );
  } catch (err) {
    $('#webhook-config').textContent = `webhooks: ${err.message}`;
  }
}

$('#webhook-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const out = await api('PUT', '/webhook-config', { url: $('#webhook-url').value.trim() });
    $('#webhook-secret').hidden = false;
    $('#webhook-secret').textContent = `Signing secret (shown only now): ${out.secret}`;
    refreshWebhooks();
  } catch (err) {
    $('#webhook-config').textContent = err.message;
  }
});

// ---- keys (local mode: /console/api/keys; a deployed stack: the CLI) ----
const keysUrl = (suffix = '') => `${serverBase()}/console/api/keys${suffix}`;

async function refreshKeys() {
  try {
    const { keys } = await api('GET', '', undefined, keysUrl());
    $('#keys-local').hidden = false;
    $('#keys-cli').hidden = true;
    $('#keys tbody').replaceChildren(
      ...keys.map((k) =>
        el(
          'tr',
          { 'data-prefix': k.prefix },
          el('td', {}, el('code', {}, k.prefix)),
          el('td', {}, k.name),
          el('td', {}, new Date(k.created_at).toLocaleString()),
          el('td', { class: k.revoked_at ? 'FAILED' : 'SUCCESS' }, k.revoked_at ? 'revoked' : 'active'),
          el(
            'td',
            {},
            k.revoked_at
              ? ''
              : el(
                  'button',
                  {
                    type: 'button',
                    onclick: async () => {
                      await api('DELETE', '', undefined, keysUrl(`/${encodeURIComponent(k.prefix)}`));
                      refreshKeys();
                    },
                  },
                  'revoke',
                ),
          ),
        ),
      ),
    );
  } catch (err) {
    // A deployed stack manages keys with the CLI only.
    $('#keys-local').hidden = true;
    $('#keys-cli').hidden = false;
    $('#key-status').textContent = err.status === 404 ? '' : err.message;
  }
}

$('#key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const out = await api('POST', '', { name: $('#key-name').value.trim() }, keysUrl());
    $('#new-key').hidden = false;
    $('#new-key').textContent = `New key "${out.name}" (shown only now): ${out.key}`;
    refreshKeys();
  } catch (err) {
    $('#key-status').textContent = err.message;
  }
});

// A console deployed with the stack finds its API in config.json (lib/console-site.ts).
async function start() {
  if (!state.base) {
    const config = await fetch('config.json')
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
    if (config?.apiUrl) {
      state.base = config.apiUrl.replace(/\/+$/, '');
      $('#base-url').value = state.base;
    }
  }
  checkConnection();
  refreshCommands();
  setInterval(refreshCommands, 1000);
}
start();
