"""The window's commands as functions and small classes of (session, controller): training
(:mod:`.training`), model files and data sets (:mod:`.files`), exports (:mod:`.export`),
dialogs (:mod:`.dialogs`, :mod:`.file_menu`) and the menu table (:mod:`.menus`)."""
