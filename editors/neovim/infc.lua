-- infc in Neovim 0.7 and later, without plugins: `*.inf` files are infc (Neovim would take them
-- for Inform), and `infc lsp` serves them, one server per working directory.
-- Use: copy to ~/.config/nvim/lua/infc.lua and add `require("infc")` to init.lua (or `luafile`).
local servers = {}

vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
  pattern = "*.inf",
  command = "set filetype=infc",
})

vim.api.nvim_create_autocmd("FileType", {
  pattern = "infc",
  callback = function(args)
    vim.bo[args.buf].commentstring = "// %s"
    local root = vim.fn.getcwd()
    if not servers[root] then
      servers[root] = vim.lsp.start_client({
        name = "infc",
        cmd = { "infc", "lsp" },
        root_dir = root,
        on_exit = function(code)
          servers[root] = nil
          vim.g.infc_lsp_exit_code = code
        end,
      })
    end
    vim.lsp.buf_attach_client(args.buf, servers[root])
  end,
})
