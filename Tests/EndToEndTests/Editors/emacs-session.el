;;; emacs-session.el --- an eglot session against `infc lsp'  -*- lexical-binding: t -*-
;; Run in batch by EditorClientTests after editors/emacs/infc.el; writes "ok" or the failures
;; to $INFC_RESULT.
(require 'eglot)
(require 'cl-lib)
(defvar infc-failures nil)
(defun infc-check (ok message) (unless ok (push message infc-failures)))
(defun infc-no-errors-p ()
  (not (cl-find-if (lambda (d) (eq (flymake-diagnostic-type d) :error)) (flymake-diagnostics))))
(defun infc-wait (predicate)
  (let ((deadline (+ (float-time) 20)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall predicate)))

(condition-case err
    (let* ((file (expand-file-name "cafe.inf"))
           (buffer (find-file file)))
      (with-current-buffer buffer
        (infc-check (eq major-mode 'infc-mode) (format "major mode %s" major-mode))
        ;; In batch no command runs, so eglot-ensure's deferred start is done by hand.
        (apply #'eglot (eglot--guess-contact))
        (let ((server (eglot-current-server)))
          (infc-check server "no eglot server")
          ;; Diagnostics: the unknown operation after non-ASCII text, at the right column.
          (infc-check (infc-wait (lambda () (flymake-diagnostics))) "no diagnostics")
          (goto-char (point-min))
          (search-forward "orders.gett(")
          (let* ((gett (- (point) 5))
                 (d (car (flymake-diagnostics))))
            (infc-check (and d (= (flymake-diagnostic-beg d) gett))
                        (format "diagnostic at %s, expected %s" (and d (flymake-diagnostic-beg d)) gett))
            ;; Hover: plain text (eglot asks for it without markdown-mode).
            (goto-char (- gett 3))
            (let* ((hover (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams)))
                   (contents (plist-get hover :contents)))
              (infc-check (equal (plist-get contents :kind) "plaintext") (format "hover kind %S" contents))
              (infc-check (and (stringp (plist-get contents :value))
                               (string-match-p "table orders" (plist-get contents :value))
                               (not (string-match-p "[`*]" (plist-get contents :value))))
                          (format "hover %S" contents)))
            ;; Definition: the `table orders' line.
            (let* ((definition (jsonrpc-request server :textDocument/definition (eglot--TextDocumentPositionParams)))
                   (location (if (vectorp definition) (aref definition 0) definition)))
              (infc-check (equal (plist-get (plist-get (plist-get location :range) :start) :line) 1)
                          (format "definition %S" definition)))
            ;; Completion after `orders.'.
            (goto-char (+ gett 0))
            (let* ((completion (jsonrpc-request server :textDocument/completion (eglot--TextDocumentPositionParams)))
                   (items (if (vectorp completion) completion (plist-get completion :items)))
                   (labels (mapcar (lambda (i) (plist-get i :label)) items)))
              (infc-check (equal labels '("get" "put" "delete" "scan" "insert" "replace")) (format "completion %S" labels)))
            ;; The quick fix, applied: the line then calls `get', and the error goes.
            (let* ((actions (jsonrpc-request server :textDocument/codeAction
                                             (list :textDocument (eglot--TextDocumentIdentifier)
                                                   :range (list :start (eglot--pos-to-lsp-position gett)
                                                                :end (eglot--pos-to-lsp-position (+ gett 4)))
                                                   :context (list :diagnostics []))))
                   (fix (cl-find-if (lambda (a) (string-match-p "get" (plist-get a :title))) actions)))
              (infc-check fix (format "code actions %S" actions))
              (when fix
                (eglot--apply-workspace-edit (plist-get fix :edit))
                (infc-check (save-excursion (goto-char (point-min)) (search-forward "orders.get(" nil t))
                            "the fix was not applied")
                (infc-check (infc-wait #'infc-no-errors-p) "errors remain after the fix")))
            ;; Shutdown and exit as eglot-shutdown sends them (`"params": null'), on eglot's own
            ;; connection: the server answers and exits with status 0. (eglot-shutdown itself
            ;; deletes the process right after sending `exit', so its status would be eglot's.)
            (let ((process (jsonrpc--process server)))
              (infc-check (null (jsonrpc-request server :shutdown nil :timeout 10)) "shutdown answered non-null")
              (jsonrpc-notify server :exit nil)
              (infc-wait (lambda () (not (process-live-p process))))
              (infc-check (and (not (process-live-p process)) (= (process-exit-status process) 0))
                          (format "server exit status %s" (process-exit-status process))))))))
  (error (push (format "error: %S" err) infc-failures)))

(with-temp-file (getenv "INFC_RESULT")
  (insert (if infc-failures (mapconcat #'identity (reverse infc-failures) "\n") "ok") "\n"))
(kill-emacs 0)
