"""The app's pages: `public` (the landing pages at /p/<slug>/, for anyone) and `founder` (the
founder's own pages, signed in). The URLconfs import the modules; nothing is re-exported here."""
