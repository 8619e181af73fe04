pub mod connect;
pub mod console;
pub mod datastore;
pub mod host;
pub mod image;
pub mod lab;
pub mod task;
pub mod vm;
