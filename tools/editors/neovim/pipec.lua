-- Neovim (0.7+) setup for pipec's language server: .pipe files get their
-- filetype, and .pipe and YAML buffers are attached to one `pipec lsp`.
-- Use: put this file on 'runtimepath' (e.g. ~/.config/nvim/lua/) and call
--   require('pipec').setup({ cmd = { 'pipec', 'lsp' } })
local M = {}

local client_id = nil

--- Starts (once) the server and attaches buffer `bufnr` to it.
function M.attach(bufnr, opts)
  opts = opts or {}
  if not client_id or vim.lsp.get_client_by_id(client_id) == nil then
    client_id = vim.lsp.start_client({
      name = 'pipec',
      cmd = opts.cmd or { 'pipec', 'lsp' },
      root_dir = opts.root_dir or vim.fn.getcwd(),
      init_options = opts.init_options,
    })
  end
  if client_id then vim.lsp.buf_attach_client(bufnr, client_id) end
  return client_id
end

function M.setup(opts)
  vim.cmd([[autocmd BufRead,BufNewFile *.pipe setfiletype pipe]])
  vim.api.nvim_create_autocmd('FileType', {
    pattern = { 'pipe', 'yaml' },
    callback = function(args) M.attach(args.buf, opts) end,
  })
end

return M
