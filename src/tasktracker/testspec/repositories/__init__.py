"""Reading and writing the test-engineering entities, one repository per concept."""
