" infc in Vim with ALE (Debian: apt install vim-ale): `infc lsp` as the language server of
" `*.inf` files. Put this file in ~/.vim/after/plugin/ (or source it from your vimrc).
" Vim calls `*.inf` files `inform`; the autocommand takes them over.
autocmd BufRead,BufNewFile *.inf set filetype=infc
call ale#linter#Define('infc', {
\   'name': 'infc',
\   'lsp': 'stdio',
\   'executable': 'infc',
\   'command': '%e lsp',
\   'project_root': {buffer -> fnamemodify(bufname(buffer), ':p:h')},
\})
