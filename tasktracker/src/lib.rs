//! The reference TaskTracker API that loadpipe load-tests
