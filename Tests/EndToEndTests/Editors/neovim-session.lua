-- A Neovim session against `infc lsp`, run headless by EditorClientTests with
-- editors/neovim/infc.lua as the only configuration. Writes "ok" or the failures to $INFC_RESULT.
local failures = {}
local function check(condition, message)
  if not condition then table.insert(failures, message) end
end
local function finish()
  local f = io.open(os.getenv("INFC_RESULT"), "w")
  f:write(#failures == 0 and "ok\n" or table.concat(failures, "\n") .. "\n")
  f:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo.filetype == "infc", "filetype is " .. vim.bo.filetype)
  local uri = vim.uri_from_bufnr(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local function find(needle)
    for i, line in ipairs(lines) do
      local col = line:find(needle, 1, true)
      if col then return i - 1, col - 1 end
    end
    error("not in the file: " .. needle)
  end
  -- UTF-16 column of a byte column (what the server speaks).
  local function utf16(line, byte)
    local _, units = vim.str_utfindex(lines[line + 1], byte)
    return units
  end

  -- Diagnostics: the unknown operation, after non-ASCII text on its line, at the right column.
  local got = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
  check(got, "no diagnostics")
  local line, col = find("gett(")
  local d = vim.diagnostic.get(buf)[1] or {}
  check(d.lnum == line and d.col == col, ("diagnostic at %s:%s, expected %d:%d (%s)"):format(d.lnum, d.col, line, col, d.message))

  local function request(method, params)
    local answers = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
    for _, answer in pairs(answers) do
      if answer.err then error(method .. ": " .. vim.inspect(answer.err)) end
      return answer.result
    end
    error(method .. ": no answer")
  end
  local function position(l, c) return { textDocument = { uri = uri }, position = { line = l, character = utf16(l, c) } } end

  -- Hover on the table's use: Markdown (Neovim asks for it first).
  local tl, tc = find("orders.gett")
  local hover = request("textDocument/hover", position(tl, tc + 1))
  check(hover and hover.contents.kind == "markdown" and hover.contents.value:find("**table** `orders`", 1, true),
    "hover: " .. vim.inspect(hover))

  -- Definition: the `table orders` line.
  local definition = request("textDocument/definition", position(tl, tc + 1))
  local target = definition and (definition[1] or definition)
  local dl = find("table orders")
  check(target and target.range and target.range.start.line == dl, "definition: " .. vim.inspect(definition))

  -- Completion after `orders.`.
  local cl, cc = find("orders.")
  local completion = request("textDocument/completion", position(cl, cc + #"orders."))
  local labels = {}
  for _, item in ipairs(completion.items or completion) do table.insert(labels, item.label) end
  check(table.concat(labels, ",") == "get,put,delete,scan,insert,replace", "completion: " .. table.concat(labels, ","))

  -- The quick fix for `fetch`, applied: the line then calls `get`.
  local actions = request("textDocument/codeAction", {
    textDocument = { uri = uri },
    range = { start = { line = line, character = utf16(line, col) }, ["end"] = { line = line, character = utf16(line, col + 4) } },
    context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf, line) },
  }) or {}
  local fix
  for _, a in ipairs(actions) do if a.title:find("get", 1, true) and a.edit then fix = a end end
  check(fix ~= nil, "code actions: " .. vim.inspect(actions))
  if fix then
    vim.lsp.util.apply_workspace_edit(fix.edit, "utf-16")
    local fixed = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
    check(fixed:find("orders.get(", 1, true) ~= nil, "after the fix: " .. fixed)
    local cleared = vim.wait(20000, function()
      for _, x in ipairs(vim.diagnostic.get(buf)) do if x.severity == vim.diagnostic.severity.ERROR then return false end end
      return true
    end, 50)
    check(cleared, "errors after the fix: " .. vim.inspect(vim.diagnostic.get(buf)))
  end

  -- Shutdown and exit: the server ends with status 0.
  for _, client in pairs(vim.lsp.get_active_clients()) do client.stop() end
  local exited = vim.wait(20000, function() return vim.g.infc_lsp_exit_code ~= nil end, 50)
  check(exited and vim.g.infc_lsp_exit_code == 0, "server exit code: " .. tostring(vim.g.infc_lsp_exit_code))
end)
if not ok then table.insert(failures, "error: " .. tostring(err)) end
finish()
