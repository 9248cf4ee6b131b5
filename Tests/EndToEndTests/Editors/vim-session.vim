" A Vim session with ALE against `infc lsp`, run by EditorClientTests with editors/vim/infc.vim
" as the only configuration. Writes "ok" or the failures to $INFC_RESULT.
let s:failures = []
function! s:Check(condition, message) abort
  if !a:condition | call add(s:failures, a:message) | endif
endfunction

" Waits up to `ms` for `Condition()` (jobs, channels and timers run while Vim sleeps).
function! s:Wait(ms, Condition) abort
  let l:waited = 0
  while !a:Condition() && l:waited < a:ms
    sleep 50m
    let l:waited += 50
  endwhile
  return a:Condition()
endfunction

let s:answers = {}
function! s:OnAnswer(name, response) abort
  let s:answers[a:name] = a:response
endfunction
" Sends a request through ALE's connection to the server and waits for the answer.
function! s:Request(name, message) abort
  call ale#lsp_linter#SendRequest(bufnr(''), 'infc', a:message, function('s:OnAnswer', [a:name]))
  call s:Wait(20000, {-> has_key(s:answers, a:name)})
  let l:answer = get(s:answers, a:name, {})
  call s:Check(has_key(l:answer, 'result'), a:name . ': ' . string(l:answer))
  return get(l:answer, 'result', v:null)
endfunction
function! s:Find(needle) abort
  let l:line = search('\V' . escape(a:needle, '\'), 'nw')
  return [l:line, stridx(getline(l:line), a:needle) + 1]
endfunction

try
  call s:Check(&filetype ==# 'infc', 'filetype is ' . &filetype)
  " Diagnostics: the unknown operation `gett`, on its line (after non-ASCII text).
  call s:Check(s:Wait(20000, {-> !empty(ale#engine#GetLoclist(bufnr('')))}), 'no diagnostics')
  let [s:line, s:col] = s:Find('gett(')
  let s:loclist = ale#engine#GetLoclist(bufnr(''))
  let s:first = get(s:loclist, 0, {})
  call s:Check(get(s:first, 'lnum') == s:line && get(s:first, 'code', '') ==# 'E0204',
  \ 'diagnostics: ' . string(s:loclist))

  " Requests on an ASCII line (ALE sends byte columns as UTF-16 ones).
  let [s:pl, s:pc] = s:Find('orders.put(')
  let s:hover = s:Request('hover', ale#lsp#message#Hover(bufnr(''), s:pl, s:pc + 1))
  let s:text = type(s:hover) == v:t_dict ? string(s:hover.contents) : ''
  call s:Check(s:text =~# 'table' && s:text =~# 'orders', 'hover: ' . string(s:hover))

  let s:definition = s:Request('definition', ale#lsp#message#Definition(bufnr(''), s:pl, s:pc + 1))
  let s:target = type(s:definition) == v:t_list ? get(s:definition, 0, {}) : s:definition
  let [s:dl, s:dc] = s:Find('table orders')
  call s:Check(type(s:target) == v:t_dict && s:target.range.start.line == s:dl - 1, 'definition: ' . string(s:definition))

  let s:completion = s:Request('completion', ale#lsp#message#Completion(bufnr(''), s:pl, s:pc + len('orders.'), '.'))
  let s:items = type(s:completion) == v:t_dict ? s:completion.items : s:completion
  call s:Check(join(map(copy(s:items), 'v:val.label'), ',') ==# 'get,put,delete,scan,insert,replace',
  \ 'completion: ' . string(s:completion))

  " The quick fix for `gett` offers `get` (its line has non-ASCII text before it: the column in
  " UTF-16 units, as the server counts).
  let s:units = 0
  for s:c in split(strpart(getline(s:line), 0, s:col - 1), '\zs')
    let s:units += char2nr(s:c) > 0xFFFF ? 2 : 1
  endfor
  let s:actions = s:Request('codeAction', ale#lsp#message#CodeAction(bufnr(''), s:line, s:units + 1, s:line, s:units + 4, []))
  let s:titles = type(s:actions) == v:t_list ? join(map(copy(s:actions), 'v:val.title'), '|') : ''
  call s:Check(s:titles =~# 'get', 'code actions: ' . string(s:actions))

  " ALE stops a server by closing its input and signalling it (TERM, then KILL after 100 ms),
  " never with `shutdown`: the server is gone afterwards (the wrapper on PATH wrote its pid).
  let s:pid = get(readfile($INFC_PID), 0, '')
  call s:Check(s:pid =~# '^\d\+$', 'no server pid: ' . s:pid)
  call ale#lsp#StopAll()
  call s:Check(s:Wait(20000, {-> !isdirectory('/proc/' . s:pid) || get(split(get(readfile('/proc/' . s:pid . '/stat'), 0, '')), 2, '') ==# 'Z'}),
  \ 'the server still runs after ALE stopped it')
catch
  call add(s:failures, 'error: ' . v:exception . ' at ' . v:throwpoint)
endtry
call writefile(empty(s:failures) ? ['ok'] : s:failures, $INFC_RESULT)
qall!
