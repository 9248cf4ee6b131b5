;;; infc.el --- infc programs in Emacs 28+ with eglot  -*- lexical-binding: t -*-
;; A major mode for `.inf' files and `infc lsp' as their eglot server. Emacs 29 ships eglot;
;; on Emacs 28 install it first (Debian: `apt install elpa-eglot', or `M-x package-install').
;; Use: (load "/path/to/infc.el") in your init file.

(define-derived-mode infc-mode prog-mode "infc"
  "Major mode for infc programs."
  (setq-local comment-start "// ")
  (setq-local font-lock-defaults
              '((("\\_<\\(app\\|table\\|bucket\\|topic\\|secret\\|service\\|fn\\|route\\|on\\|every\\)\\_>" . font-lock-keyword-face)
                 ("\\_<\\(let\\|var\\|if\\|else\\|for\\|in\\|while\\|return\\|throw\\|try\\|catch\\|sleep\\|parallel\\|async\\)\\_>" . font-lock-keyword-face)
                 ("\\_<\\(true\\|false\\|null\\)\\_>" . font-lock-constant-face)))))
(add-to-list 'auto-mode-alist '("\\.inf\\'" . infc-mode))

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs '(infc-mode . ("infc" "lsp"))))
(add-hook 'infc-mode-hook #'eglot-ensure)

(provide 'infc)
;;; infc.el ends here
