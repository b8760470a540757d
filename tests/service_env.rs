//! The service identity from `ASDLC_SERVICE` and `ASDLC_SERVICE_VERSION`
//! when `init` is never called. A test binary of its own without the test
//! harness: the variables must be set before the first thread starts,
//! which the multi-threaded suite could not guarantee.

use asdlc_metrics::ServiceInfo;
use asdlc_testkit::exposition::Scrape;

fn main() {
    // SAFETY: nothing else runs yet; no other thread reads the environment.
    unsafe {
        std::env::set_var("ASDLC_SERVICE", "from-env");
        std::env::set_var("ASDLC_SERVICE_VERSION", "7.8.9");
    }

    assert_eq!(&*asdlc_metrics::service_name(), "from-env");
    let scrape = Scrape::parse(&asdlc_metrics::registry().encode_to_string());
    assert_eq!(
        scrape.value(
            "asdlc_service_info",
            &[("service", "from-env"), ("version", "7.8.9")]
        ),
        1.0
    );
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.label("service") == Some("from-env")),
        "every series carries the name from the environment"
    );
    // A name given in code keeps the version from the environment.
    assert_eq!(ServiceInfo::new("named").version_str(), "7.8.9");
    println!("service identity from the environment: ok");
}
