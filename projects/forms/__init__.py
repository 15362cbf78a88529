"""The projects app's forms, one module per subject: `public` (what visitors of a landing page
submit, with its guards) and the founder's workspace forms (`projects`, `prototypes`, `pages`,
`signups`)."""
