//! bucketlink's test harness: the local AWS emulator (started per test binary, like a test
//! container), fixtures for the provider and customer accounts, and a Lambda Runtime API host.

pub mod emf;
pub mod emulator;
pub mod events;
pub mod fixtures;
pub mod gateway;
pub mod http_api;
pub mod listen;
pub mod load;
pub mod local;
pub mod proxy;
pub mod runtime;
pub mod sam;
pub mod samples;
pub mod scale;
pub mod site;
pub mod streams;

pub use emulator::{Account, Emulator, Mode};
pub use fixtures::{Announcer, Customer, CustomerSpec, Permissions, Provider, Sweep, Trust};
pub use proxy::Proxy;
pub use runtime::Function;
