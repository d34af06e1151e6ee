-- Drives `pipec lsp` through Neovim's own LSP client (headless): opens a
-- file with a mistake and prints, one per line, what the client got back:
-- diagnostics, a hover, completion labels and a definition.
-- Environment: PIPEC (the binary), FILE (to open), and the 0-based
-- positions HOVER, COMPLETE, DEFINE as "line,col".
package.path = os.getenv('SRCROOT') .. '/tools/editors/neovim/?.lua;' .. package.path
local pipec = require('pipec')
local out = io.stdout

local function pos(name)
  local l, c = os.getenv(name):match('(%d+),(%d+)')
  return { line = tonumber(l), character = tonumber(c) }
end

vim.cmd('edit ' .. os.getenv('FILE'))
local bufnr = vim.api.nvim_get_current_buf()
local id = pipec.attach(bufnr, { cmd = { os.getenv('PIPEC'), 'lsp', '--debounce-ms', '0' } })
local client = vim.lsp.get_client_by_id(id)
if not vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20) then
  out:write('no diagnostics\n')
end
for _, d in ipairs(vim.diagnostic.get(bufnr)) do
  out:write(string.format('diagnostic %d:%d %s [%s]\n', d.lnum, d.col, d.message, tostring(d.code)))
end

local function request(method, p)
  local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr), position = p }
  local r = client.request_sync(method, params, 20000, bufnr)
  if not r then return nil end
  if r.err then out:write(method .. ' error ' .. vim.inspect(r.err) .. '\n') end
  return r.result
end

local hover = request('textDocument/hover', pos('HOVER'))
out:write('hover ' .. (hover and hover.contents.value:gsub('\n', ' | ') or 'none') .. '\n')

local items = request('textDocument/completion', pos('COMPLETE'))
local labels = {}
for _, it in ipairs(items and (items.items or items) or {}) do table.insert(labels, it.label) end
table.sort(labels)
out:write('completion ' .. table.concat(labels, ' ') .. '\n')

local def = request('textDocument/definition', pos('DEFINE'))
for _, loc in ipairs(def or {}) do
  out:write(string.format('definition %s %d:%d\n', vim.fn.fnamemodify(vim.uri_to_fname(loc.uri), ':t'),
    loc.range.start.line, loc.range.start.character))
end
client.stop()
vim.wait(5000, function() return client.is_stopped() end, 20)
vim.cmd('qa!')
